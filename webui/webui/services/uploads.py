"""Streaming an upload to disk: temp file, size limit, validation with `inspect_input`, then rename."""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path

from just_dna_pipelines import service
from just_dna_pipelines.errors import PipelineError
from just_dna_pipelines.keys import InvalidKeyError, stored_sample_name
from just_dna_pipelines.settings import get_settings
from just_dna_pipelines.uploads import input_suffix
from webui import formatting
from webui.config import get_web_settings
from webui.services import samples
from webui.services.accounts import CurrentUser
from webui.services.errors import WebError, shown

ACCEPTED_KINDS = "a VCF (.vcf, .vcf.gz, .bcf) or a DNA-test raw data file (.txt, .csv, .zip or .gz)"


def _suffix(filename: str) -> str:
    """The accepted suffix of `filename` (the content decides the format later); WebError if it has none."""
    suffix = input_suffix(filename)
    if suffix is not None:
        return suffix
    raise WebError(f"{shown(filename)}: not a genome file name; upload {ACCEPTED_KINDS}")


def sweep_stale_staging() -> list[Path]:
    """Remove the staging folders of uploads that died with their server (nothing in them changed for
    samples.STALE_RESERVATION_S; a live upload writes every chunk); return them. A killed server's partial
    upload stayed there for good, holding the person's genome in part."""
    staging = get_settings().input_dir / ".staging"
    if not staging.is_dir():
        return []
    cutoff = time.time() - samples.STALE_RESERVATION_S
    removed = []
    for folder in staging.iterdir():
        try:
            newest = max([folder.lstat().st_mtime, *(p.lstat().st_mtime for p in folder.iterdir())])
        except OSError:
            continue  # finished or removed meanwhile
        if newest < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


class UploadSink:
    """Receives one uploaded file in chunks and turns it into a registered sample, or leaves nothing behind."""

    def __init__(self, user: CurrentUser, filename: str) -> None:
        """Check the name and open a temp file in a staging folder next to the uploads."""
        suffix = _suffix(filename)
        try:
            # The name the stored file gives back: "mine.vcf..gz" is sample mine (stored as mine.vcf.gz).
            self.sample = stored_sample_name(filename, suffix)
        except InvalidKeyError as exc:
            raise WebError(f"{shown(filename)}: {exc}") from exc
        sweep_stale_staging()
        samples.reserve_name(user, self.sample)  # raises WebError when taken or being uploaded
        self.user = user
        self.original_name = filename
        self.filename = self.sample + suffix
        settings = get_web_settings()
        # The account's storage is checked as the bytes arrive: what its uploads take already, plus this one.
        room = settings.max_storage_bytes_per_user - stored_bytes(user)
        self.limit = min(settings.max_upload_bytes, max(room, 0))
        self.account_full = room < settings.max_upload_bytes
        self.account_limit = settings.max_storage_bytes_per_user
        # A private folder per upload keeps the real file name (messages quote it; readers look at the suffix).
        self.temp_dir = get_settings().input_dir / ".staging" / secrets.token_hex(8)
        self.temp_dir.mkdir(parents=True)
        self.temp_path: Path = self.temp_dir / self.filename
        self._handle = self.temp_path.open("wb")
        self.size = 0
        self._renewed = time.monotonic()

    def write(self, data: bytes) -> None:
        """Append a chunk; abort and raise WebError once the size limit is passed."""
        self.size += len(data)
        if self.size > self.limit:
            self.abort()
            if self.account_full:
                raise WebError(
                    f"your uploads would take more than the {formatting.size(self.account_limit)} an account may keep here; "
                    "delete a sample to make room"
                )
            raise WebError(f"file too large: the limit is {self.limit // (1024 * 1024)} MB")
        self._handle.write(data)
        if time.monotonic() - self._renewed > samples.RENEW_RESERVATION_S:  # still going: keep the name
            samples.renew_name(self.user, self.sample)
            self._renewed = time.monotonic()

    def abort(self) -> None:
        """Drop the partial upload and free the sample name."""
        if not self._handle.closed:
            self._handle.close()
        self._clean()
        samples.release_name(self.user, self.sample)

    def _clean(self) -> None:
        """Remove the temp file and its folder."""
        self.temp_path.unlink(missing_ok=True)
        if self.temp_dir.is_dir():
            self.temp_dir.rmdir()

    def finish(self) -> samples.SampleView:
        """Validate the complete file, move it into place and register the sample; on any problem delete it."""
        self._handle.close()
        try:
            if self.size == 0:
                raise WebError(f"{self.filename}: the file is empty")
            facts = _check(self.temp_path)
            final = service.upload_path(self.user.name, self.filename)
            _publish(self.temp_path, final, self.sample)
        except PipelineError as exc:
            self.abort()
            raise WebError(str(exc)) from exc
        except BaseException:
            self.abort()
            raise
        self._clean()
        try:
            return samples.add_sample(self.user, self.sample, final, facts)
        except BaseException:
            final.unlink(missing_ok=True)
            samples.release_name(self.user, self.sample)
            raise


def stored_bytes(user: CurrentUser) -> int:
    """What the user's kept uploads take on disk, in bytes."""
    return sum(path.stat().st_size for path in service.user_vcf_files(user.name) if path.is_file())


# A file system without hard links (FAT, exFAT, some network mounts) refuses os.link with one of these.
NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK})


def _publish(temp: Path, final: Path, sample: str) -> None:
    """Move a checked upload into place, never over a stored file (a hard link fails when the name exists;
    without hard links the name is checked first, and the name's reservation keeps other uploads out)."""
    try:
        os.link(temp, final)
    except FileExistsError:
        raise samples.name_taken(sample) from None
    except OSError as exc:
        if exc.errno not in NO_HARD_LINKS:
            raise
        if final.exists():
            raise samples.name_taken(sample) from None
        temp.replace(final)
        return
    temp.unlink()


def _check(path: Path) -> service.InputFacts:
    """Inspect any genome file completely and refuse what no module site could be tested on."""
    facts = service.inspect_input(path)
    if refusal := service.upload_refusal(facts):
        raise WebError(refusal)
    return facts


def add_demo_sample(user: CurrentUser) -> samples.SampleView:
    """Give the user the synthetic demo sample (matches the demo modules), through the same checks as an upload."""
    from just_dna_pipelines.modules.demo import ensure_demo_sample

    staging = get_settings().input_dir / ".staging"
    staging.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=staging) as folder:
        source = ensure_demo_sample(Path(folder))
        sink = UploadSink(user, source.name)
        with source.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                sink.write(chunk)
        return sink.finish()

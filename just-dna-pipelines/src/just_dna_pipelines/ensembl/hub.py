"""The network edge of the Ensembl reference: the dataset's revision, its file list, and resumable downloads.

Everything here goes through huggingface_hub's HTTP client (endpoint and token from the settings), with the hub's
answers bounded and checked (`io.hub_listing`); every failure becomes one EnsemblError line. Offline is decided
before the hub client is imported (see `hub_online`).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from just_dna_pipelines.ensembl.layout import DATA_DIR, contig_of_filename, contig_path_in_repo
from just_dna_pipelines.errors import EnsemblError, first_line
from just_dna_pipelines.io.hub_listing import RemoteFile, hub_commit, hub_tree
from just_dna_pipelines.modules.sources import hub_is_reachable
from just_dna_pipelines.settings import Settings

ProgressCallback = Callable[[int], None]  # bytes just received


def offline_reason(settings: Settings) -> str | None:
    """Why the hub cannot be used right now (HF_HUB_OFFLINE, or unreachable within a second), or None."""
    if settings.hf_offline:
        return "HF_HUB_OFFLINE is set"
    if not hub_is_reachable(settings.hf_endpoint):
        return f"Hugging Face ({settings.hf_endpoint}) is unreachable"
    return None


def hub_revision(repo_id: str, revision: str | None, settings: Settings) -> str:
    """The commit a branch, tag or commit of the dataset resolves to now."""
    try:
        return hub_commit(settings.hf_endpoint, repo_id, revision, settings.hf_token)
    except Exception as exc:  # the network edge: every hub failure becomes one clear line
        raise EnsemblError(f"cannot read {repo_id} from {settings.hf_endpoint}: {first_line(exc)}") from exc


def hub_files(repo_id: str, commit: str, settings: Settings) -> dict[str, RemoteFile]:
    """Contig -> file of the dataset at `commit`, with the sizes and SHA-256 sums the hub reports."""
    try:
        listing = hub_tree(settings.hf_endpoint, repo_id, commit, DATA_DIR, settings.hf_token)
    except Exception as exc:
        raise EnsemblError(f"cannot list {repo_id} at {commit[:12]}: {first_line(exc)}") from exc
    files: dict[str, RemoteFile] = {}
    for remote in listing:
        contig = contig_of_filename(remote.path)
        if contig is not None and remote.path == contig_path_in_repo(contig):
            files[contig] = remote
    if not files:
        raise EnsemblError(f"{repo_id} at {commit[:12]} has no {DATA_DIR}/homo_sapiens-chr*.parquet files")
    return files


class _Progress:
    """The part of tqdm's interface huggingface_hub's downloader calls; forwards byte counts."""

    def __init__(self, callback: ProgressCallback | None, **_: object) -> None:
        self._callback = callback

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def update(self, n: float | None = 1) -> None:
        """Report `n` more bytes (negative when the server ignored a resume request)."""
        if self._callback is not None and n:
            self._callback(int(n))

    def close(self) -> None:
        """Nothing to close."""


class _Overflow(OSError):
    """The server sent more bytes than the hub announced for the file."""


class _Bounded:
    """The file the downloader writes into, refusing bytes past the size the hub announced: a server streaming without
    end (no Content-Length) wrote 440 MB in two seconds for a 3 KB contig file, and would have filled the disk."""

    def __init__(self, handle: BinaryIO, size: int) -> None:
        self._handle = handle
        self._size = size

    def write(self, data: bytes) -> int:
        """Write `data`, or raise _Overflow when it would take the file past its size."""
        if self._handle.tell() + len(data) > self._size:
            raise _Overflow(f"the server sent more than the {self._size:,} bytes announced")
        return self._handle.write(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        """Move in the file (the downloader rewinds when a server ignores a resume request)."""
        return self._handle.seek(offset, whence)

    def tell(self) -> int:
        """The position in the file."""
        return self._handle.tell()

    def truncate(self, size: int | None = None) -> int:
        """Cut the file at `size` (the position when None)."""
        return self._handle.truncate(size)


def download_resumable(
    repo_id: str,
    commit: str,
    remote: RemoteFile,
    part: Path,
    settings: Settings,
    on_bytes: ProgressCallback | None = None,
) -> None:
    """Append the rest of `remote` to `part` (resuming from its current size) with huggingface_hub."""
    from huggingface_hub import hf_hub_url
    from huggingface_hub.file_download import http_get
    from huggingface_hub.utils import build_hf_headers

    url = hf_hub_url(
        repo_id, remote.path, repo_type="dataset", revision=commit, endpoint=settings.hf_endpoint
    )
    headers = build_hf_headers(token=settings.hf_token)
    have = part.stat().st_size if part.exists() else 0
    if have > remote.size:  # not a prefix of this file: start over
        part.unlink()
        have = 0
    part.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(part.parent).free
    if remote.size - have > free:
        raise EnsemblError(
            f"{remote.path} from {repo_id} needs {remote.size - have:,} bytes, {part.parent} has {free:,} free"
        )
    if on_bytes is not None and have:
        on_bytes(have)
    with part.open("ab") as handle:
        try:
            http_get(
                url,
                _Bounded(handle, remote.size),  # type: ignore[arg-type]
                resume_size=have,
                headers=headers,
                expected_size=remote.size,
                tqdm_class=lambda **kwargs: _Progress(on_bytes, **kwargs),  # type: ignore[arg-type]
            )
        except Exception as exc:
            if isinstance(exc, _Overflow):  # not the file the hub described: nothing of it is kept
                part.unlink(missing_ok=True)
            raise EnsemblError(f"download of {remote.path} from {repo_id} failed: {first_line(exc)}") from exc

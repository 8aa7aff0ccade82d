"""One file of a Hugging Face dataset downloaded to a local path: resumed from the bytes already there, cut at the
size the hub lists, and verified against the checksum it lists (its SHA-256, or its git blob id).

Shared by the Ensembl reference (`ensembl/cache.py`), module tables (`modules/hub_snapshot.py`) and a genome read
from `hf://` (`io/remote_vcf.py`); each turns HubDownloadError into its own error with the same one line. What the
hub lists comes from `io/hub_listing.py`.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from just_dna_pipelines.errors import PipelineError, first_line
from just_dna_pipelines.io.file_hash import sha256_of
from just_dna_pipelines.io.hub_listing import RemoteFile
from just_dna_pipelines.settings import Settings

ProgressCallback = Callable[[int], None]  # bytes just received


class HubDownloadError(PipelineError):
    """A file of a dataset could not be downloaded whole, or differs from what the hub lists."""


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
        raise HubDownloadError(
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
            raise HubDownloadError(
                f"download of {remote.path} from {repo_id} failed: {first_line(exc)}"
            ) from exc


def git_blob_sha1(path: Path) -> str:
    """The git blob id of a file (what the hub reports for files not stored in LFS)."""
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as handle:
        while chunk := handle.read(4 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def verify_download(part: Path, remote: RemoteFile) -> str:
    """The file's SHA-256 if its size and checksum are the hub's; otherwise delete it and raise HubDownloadError."""
    size = part.stat().st_size
    problem = None
    digest = sha256_of(part)
    if size != remote.size:
        problem = f"size {size:,} bytes, the hub says {remote.size:,}"
    elif remote.sha256 is not None and digest != remote.sha256:
        problem = f"SHA-256 {digest[:16]}..., the hub says {remote.sha256[:16]}..."
    elif remote.sha256 is None and remote.blob_id is not None and git_blob_sha1(part) != remote.blob_id:
        problem = f"git blob id differs from the hub's {remote.blob_id[:16]}..."
    elif remote.sha256 is None and remote.blob_id is None:
        problem = "the hub gave no checksum to verify it against"
    if problem is not None:
        part.unlink(missing_ok=True)
        raise HubDownloadError(f"checksum mismatch for {remote.path}: {problem}; nothing was published")
    return digest

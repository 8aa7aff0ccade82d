"""The network edge of the Ensembl reference: the dataset's revision, its file list, and resumable downloads.

Everything here goes through huggingface_hub (endpoint and token from the settings); every failure
becomes one EnsemblError line. Offline is decided before the hub client is imported (see `hub_online`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from just_dna_pipelines.ensembl.layout import DATA_DIR, contig_of_filename
from just_dna_pipelines.errors import EnsemblError
from just_dna_pipelines.modules.sources import hub_is_reachable
from just_dna_pipelines.settings import Settings

ProgressCallback = Callable[[int], None]  # bytes just received
COMMIT = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class RemoteFile:
    """One contig file as the hub describes it: path in the repo, size and SHA-256 (LFS oid)."""

    path: str
    size: int
    sha256: str | None  # the LFS object id; files stored in git itself have only their blob id
    blob_id: str | None = None


def offline_reason(settings: Settings) -> str | None:
    """Why the hub cannot be used right now (HF_HUB_OFFLINE, or unreachable within a second), or None."""
    if settings.hf_offline:
        return "HF_HUB_OFFLINE is set"
    if not hub_is_reachable(settings.hf_endpoint):
        return f"Hugging Face ({settings.hf_endpoint}) is unreachable"
    return None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _api(settings: Settings) -> Any:
    from huggingface_hub import HfApi

    return HfApi(endpoint=settings.hf_endpoint, token=settings.hf_token)


def hub_revision(repo_id: str, revision: str | None, settings: Settings) -> str:
    """The commit a branch, tag or commit of the dataset resolves to now."""
    try:
        info = _api(settings).dataset_info(repo_id, revision=revision)
    except Exception as exc:  # the network edge: every hub failure becomes one clear line
        raise EnsemblError(f"cannot read {repo_id} from {settings.hf_endpoint}: {_one_line(exc)}") from exc
    sha = str(info.sha or "")
    if not COMMIT.fullmatch(sha):  # it names a cache folder: never let the hub choose a path
        raise EnsemblError(f"{repo_id} on {settings.hf_endpoint} reported no valid revision ({sha[:50]!r})")
    return sha


def hub_files(repo_id: str, commit: str, settings: Settings) -> dict[str, RemoteFile]:
    """Contig -> file of the dataset at `commit`, with the sizes and SHA-256 sums the hub reports."""
    try:
        entries = list(
            _api(settings).list_repo_tree(
                repo_id, path_in_repo=DATA_DIR, repo_type="dataset", revision=commit, expand=False
            )
        )
    except Exception as exc:
        raise EnsemblError(f"cannot list {repo_id} at {commit[:12]}: {_one_line(exc)}") from exc
    files: dict[str, RemoteFile] = {}
    for entry in entries:
        contig = contig_of_filename(getattr(entry, "path", ""))
        size = getattr(entry, "size", None)
        if contig is None or size is None:
            continue
        lfs = getattr(entry, "lfs", None)
        files[contig] = RemoteFile(
            entry.path,
            int(size),
            lfs.sha256 if lfs is not None else None,
            getattr(entry, "blob_id", None),
        )
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
    if on_bytes is not None and have:
        on_bytes(have)
    with part.open("ab") as handle:
        try:
            http_get(
                url,
                handle,
                resume_size=have,
                headers=headers,
                expected_size=remote.size,
                tqdm_class=lambda **kwargs: _Progress(on_bytes, **kwargs),  # type: ignore[arg-type]
            )
        except Exception as exc:
            raise EnsemblError(f"download of {remote.path} from {repo_id} failed: {_one_line(exc)}") from exc

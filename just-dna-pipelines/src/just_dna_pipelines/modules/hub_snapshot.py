"""A module dataset downloaded from the hub: its `data/{module}/{file}` files at one commit, each checked against
the size and checksum the hub lists, published whole into the hub cache's layout (`snapshots/{commit}/`, `refs/`).

The hub client's snapshot download named folders and files after the hub's answers: a commit id of `../../x` wrote
its listing outside the cache, and an ETag header of `../../x` put a module table anywhere the app may write.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from just_dna_pipelines.errors import ModuleSourceError, first_line
from just_dna_pipelines.io.atomic import atomic_write_text, replace_dir
from just_dna_pipelines.io.file_lock import file_lock
from just_dna_pipelines.io.hub_download import HubDownloadError, download_resumable, verify_download
from just_dna_pipelines.io.hub_listing import RemoteFile, hub_commit, hub_tree, plain_path
from just_dna_pipelines.settings import Settings

DATA_DIR = "data"
# Module tables are kilobytes to tens of megabytes; a listing promising more is not downloaded at all.
MAX_FILE_BYTES = 1 << 30
MAX_SNAPSHOT_BYTES = 4 << 30


def repo_cache(cache_dir: Path, repo_id: str) -> Path:
    """The hub cache's folder of one dataset."""
    return cache_dir / f"datasets--{repo_id.replace('/', '--')}"


def module_files(listing: list[RemoteFile], repo_id: str) -> list[RemoteFile]:
    """The `data/{module}/{file}` files of a listing, or ModuleSourceError when they are too many or too large.

    Other paths (deeper, or with a name a local path could be led astray by) are not downloaded.
    """
    files = [
        remote for remote in listing if remote.path.startswith(DATA_DIR + "/") and plain_path(remote.path, 3)
    ]
    seen: dict[str, str] = {}
    for remote in files:
        other = seen.setdefault(remote.path.casefold(), remote.path)
        # one file on a case-insensitive disk (macOS, Windows): one would hide the other
        if other != remote.path:
            raise ModuleSourceError(f"{repo_id} holds {other} and {remote.path}, which differ only in case")
        if remote.size > MAX_FILE_BYTES:
            raise ModuleSourceError(
                f"{repo_id}'s {remote.path} is {remote.size:,} bytes (a module file may have {MAX_FILE_BYTES:,})"
            )
    total = sum(remote.size for remote in files)
    if total > MAX_SNAPSHOT_BYTES:
        raise ModuleSourceError(
            f"{repo_id}'s modules are {total:,} bytes in all (this version downloads up to {MAX_SNAPSHOT_BYTES:,})"
        )
    return files


def _is_whole(snapshot: Path, files: list[RemoteFile]) -> bool:
    """Whether a cached snapshot holds every file of the listing at its size, as this module publishes them.

    The hub client's snapshots (links into its blobs, named after the hub's ETags, never checked against the
    listed SHA-256) are downloaded again once.
    """
    for remote in files:
        path = snapshot / remote.path
        if path.is_symlink() or not path.is_file() or path.stat().st_size != remote.size:
            return False
    return True


def download_snapshot(repo_id: str, revision: str | None, cache_dir: Path, settings: Settings) -> Path:
    """The dataset's snapshot at `revision` (default `main`): downloaded, verified and published unless already here.

    `refs/{revision}` names its commit once the snapshot is whole. Raises ModuleSourceError with one line.
    """
    endpoint, token = settings.hf_endpoint, settings.hf_token
    try:
        commit = hub_commit(endpoint, repo_id, revision, token)
        listing = hub_tree(endpoint, repo_id, commit, DATA_DIR, token, recursive=True)
    except Exception as exc:  # the network edge: every hub failure becomes one clear line
        raise ModuleSourceError(f"cannot read {repo_id} from {endpoint}: {first_line(exc)}") from exc
    files = module_files(listing, repo_id)
    if not files:
        raise ModuleSourceError(f"{repo_id} has no {DATA_DIR}/{{module}}/ files")
    repo = repo_cache(cache_dir, repo_id)
    snapshot = repo / "snapshots" / commit
    with file_lock(repo / ".locks" / f"{commit}.lock"):
        if not _is_whole(snapshot, files):
            snapshot.parent.mkdir(parents=True, exist_ok=True)
            staged = Path(tempfile.mkdtemp(prefix=f".{commit}.", dir=snapshot.parent))
            try:
                for remote in files:
                    target = staged / remote.path
                    target.parent.mkdir(parents=True, exist_ok=True)
                    download_resumable(repo_id, commit, remote, target, settings)
                    verify_download(target, remote)
                replace_dir(staged, snapshot)
            except HubDownloadError as exc:  # the download and checks shared with the Ensembl reference
                raise ModuleSourceError(str(exc)) from exc
            finally:
                shutil.rmtree(staged, ignore_errors=True)
    atomic_write_text(repo / "refs" / (revision or "main"), commit)
    return snapshot

"""Where module tables come from: `hf://OWNER/REPO[@revision]`, `demo`, or a local folder.

A resolved source is a folder holding one `{module}/` folder per module with the three Parquet
tables (see `modules.schema`). Hugging Face datasets keep them under `data/{module}/`.
"""

from __future__ import annotations

import re
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from just_dna_pipelines.errors import ModuleSourceError
from just_dna_pipelines.io.hub_listing import COMMIT
from just_dna_pipelines.modules.layouts import inspect_module, module_folders
from just_dna_pipelines.settings import Settings, get_settings

HF_PREFIX = "hf://"
HF_REPO_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
REVISION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,127}")  # a branch, tag or commit name
PROBE_SECONDS = 0.8  # offline must be told in under a second; the hub client itself retries for >20 s
WEIGHTS_FILE = "weights.parquet"


@dataclass(frozen=True)
class ResolvedModules:
    """A module source made local: `root/{module}/weights.parquet` etc."""

    root: Path
    kind: str  # "hf", "local" or "demo"
    label: str
    revision: str | None = None


def resolve_modules_source(source: str | None = None) -> ResolvedModules:
    """Make a module source local (download or cache for `hf://`, generate for `demo`) and return its root."""
    settings = get_settings()
    text = (source or settings.modules_source).strip()
    if text == "demo":
        from just_dna_pipelines.modules.demo import ensure_demo_modules

        return ResolvedModules(ensure_demo_modules(), "demo", "demo modules (synthetic data)")
    if text.startswith(HF_PREFIX):
        return _resolve_hf(text[len(HF_PREFIX) :], settings)
    return _resolve_local(Path(text).expanduser())


def cached_modules(source: str | None = None) -> ResolvedModules | None:
    """The module source as far as it is on this machine, without the network (None: nothing cached yet)."""
    settings = get_settings()
    text = (source or settings.modules_source).strip()
    if not text.startswith(HF_PREFIX):
        try:
            return resolve_modules_source(text)
        except ModuleSourceError:
            return None
    repo_id, _, revision = text[len(HF_PREFIX) :].partition("@")
    if not HF_REPO_PATTERN.match(repo_id) or not valid_revision(revision):
        return None
    snapshot = cached_snapshot(settings.cache_dir / "hf", repo_id, revision or None)
    if snapshot is None:
        return None
    return ResolvedModules(snapshot / "data", "hf", f"{HF_PREFIX}{repo_id}", snapshot.name)


def module_dirs(root: Path) -> list[Path]:
    """The module folders under `root` this version can run: a weights table it understands.

    Other module folders (no weights table, an unreadable one) are listed by the catalog with the reason.
    """
    return [folder for folder in module_folders(root) if inspect_module(folder).usable]


def _resolve_local(folder: Path) -> ResolvedModules:
    """A folder of `{module}/` folders, or one whose `data/` subfolder holds them."""
    if not folder.is_dir():
        raise ModuleSourceError(
            f"module folder {folder} does not exist (use hf://OWNER/REPO, demo or a folder)"
        )
    for root in (folder, folder / "data"):
        if module_folders(root):
            return ResolvedModules(root.resolve(), "local", str(folder))
    raise ModuleSourceError(
        f"no modules found in {folder}: expected {{module}}/{WEIGHTS_FILE} or data/{{module}}/{WEIGHTS_FILE}"
    )


def hub_is_reachable(endpoint: str) -> bool:
    """Whether the endpoint's host accepts a TCP connection within PROBE_SECONDS (DNS included)."""
    url = urlparse(endpoint)
    host, port = url.hostname, url.port or (443 if url.scheme == "https" else 80)
    if not host:
        return False

    def connect() -> None:
        socket.create_connection((host, port), timeout=PROBE_SECONDS).close()

    # A thread bounds the DNS lookup too, which socket timeouts do not cover.
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        pool.submit(connect).result(timeout=PROBE_SECONDS)
        return True
    except (OSError, FutureTimeout):
        return False
    finally:
        pool.shutdown(wait=False)


def _finished_marks(cache_dir: Path, repo_id: str) -> Path:
    """Where a download of the dataset's `main` records each snapshot it finished (beside the hub cache, which is
    left as the hub client keeps it): the client points `refs/main` at a new commit before its files are all there,
    so a reader meanwhile (or after a download cut short) found some modules of it, or tables missing."""
    return cache_dir.with_name(cache_dir.name + "-finished") / repo_id.replace("/", "--")


def mark_finished(cache_dir: Path, repo_id: str, commit: str) -> None:
    """Record that `main`'s snapshot `commit` is whole (every `data/*/*` file downloaded)."""
    marks = _finished_marks(cache_dir, repo_id)
    marks.mkdir(parents=True, exist_ok=True)
    (marks / commit).touch()  # its time: the newest finished snapshot is the one to use meanwhile


def cached_snapshot(cache_dir: Path, repo_id: str, revision: str | None) -> Path | None:
    """A dataset snapshot already in the hub cache (documented layout), found without importing the hub client.

    For `main` (no revision), the snapshot `refs/main` names once a download marked it finished, else (the newest
    one still downloading or cut short) the newest finished one; a cache no download of this version marked is read
    as it is. A pinned revision (a commit or tag) never moves, and is read as it is.
    """
    repo_cache = cache_dir / f"datasets--{repo_id.replace('/', '--')}"
    ref = revision or "main"
    ref_file = repo_cache / "refs" / ref
    commit: str | None = ref_file.read_text().strip() if ref_file.is_file() else ref
    marks = _finished_marks(cache_dir, repo_id)
    if ref == "main" and marks.is_dir() and not (marks / str(commit)).is_file():
        finished = sorted(marks.iterdir(), key=lambda mark: mark.stat().st_mtime)
        commit = finished[-1].name if finished else None
    if commit is None or not COMMIT.fullmatch(commit):  # a damaged ref must not lead out of the cache
        return None
    snapshot = repo_cache / "snapshots" / commit
    return snapshot if module_folders(snapshot / "data") else None


def valid_revision(revision: str) -> bool:
    """Whether a revision asked for (branch, tag or commit; "" for the default) can name a file under `refs/`."""
    return not revision or (REVISION.fullmatch(revision) is not None and ".." not in revision)


def _resolve_hf(spec: str, settings: Settings) -> ResolvedModules:
    """Download (or find in the cache) the `data/*/*` files of a Hugging Face dataset."""
    repo_id, _, revision = spec.partition("@")
    if not HF_REPO_PATTERN.match(repo_id) or not valid_revision(revision):
        raise ModuleSourceError(
            f"invalid Hugging Face source {HF_PREFIX}{spec!r}: expected hf://OWNER/REPO[@revision]"
        )
    cache_dir = settings.cache_dir / "hf"
    hint = "use --modules-source demo or a local folder"
    if settings.hf_offline or not hub_is_reachable(settings.hf_endpoint):
        # Decided before importing the hub client (~1.5 s to import), so offline is told at once.
        snapshot = cached_snapshot(cache_dir, repo_id, revision or None)
        if snapshot is None:
            why = (
                "HF_HUB_OFFLINE is set"
                if settings.hf_offline
                else f"Hugging Face ({settings.hf_endpoint}) is unreachable"
            )
            raise ModuleSourceError(f"{why} and {repo_id} is not cached; {hint}")
        return ResolvedModules(
            snapshot / "data", "hf", f"{HF_PREFIX}{repo_id} (cached, offline)", snapshot.name
        )

    from just_dna_pipelines.modules.hub_snapshot import download_snapshot

    try:
        path = download_snapshot(repo_id, revision or None, cache_dir, settings)
    except ModuleSourceError as exc:
        raise ModuleSourceError(f"{exc}; {hint}") from exc
    if not module_folders(path / "data"):
        raise ModuleSourceError(f"{repo_id} has no data/{{module}}/ folders with tables")
    if (revision or "main") == "main":
        mark_finished(cache_dir, repo_id, path.name)
    return ResolvedModules(path / "data", "hf", f"{HF_PREFIX}{repo_id}", revision=path.name)

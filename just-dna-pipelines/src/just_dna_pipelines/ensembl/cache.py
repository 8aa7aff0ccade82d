"""The local Ensembl reference: contig files downloaded, verified and published into the cache, or a local folder.

Cache layout under `{JUST_DNA_PIPELINES_CACHE_DIR}/ensembl/{owner}--{repo}/`:

    refs/{branch}                          the commit the branch resolved to when last online
    {commit}/files.json                    the hub's file list at that commit (sizes, SHA-256)
    {commit}/data/homo_sapiens-chrN.parquet  published only after its size and SHA-256 matched
    {commit}/meta/homo_sapiens-chrN.json   size, SHA-256 and rows of the published file
    .partial/{commit}/...parquet.part      bytes received so far (a re-run resumes from here)

The download and its checks are `io.hub_download`'s; here its HubDownloadError becomes an EnsemblError.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from just_dna_pipelines.ensembl.columns import check_footer
from just_dna_pipelines.ensembl.hub import hub_files, hub_revision, offline_reason
from just_dna_pipelines.ensembl.layout import CONTIGS, DATA_DIR, contig_filename, parse_contigs
from just_dna_pipelines.ensembl.source import (
    EnsemblSource,
    local_contig_files,
    local_revision,
    parse_ensembl_source,
)
from just_dna_pipelines.errors import EnsemblError
from just_dna_pipelines.io.atomic import atomic_write_text
from just_dna_pipelines.io.file_lock import file_lock
from just_dna_pipelines.io.hub_download import HubDownloadError, download_resumable, verify_download
from just_dna_pipelines.io.hub_listing import COMMIT, RemoteFile
from just_dna_pipelines.settings import Settings, get_settings

# (contig, bytes so far, bytes in all) while a contig file downloads
DownloadProgress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class EnsemblReference:
    """A reference ready to join against: contig -> local Parquet file, at one revision."""

    source: str
    kind: str  # "hf" or "local"
    revision: str
    files: dict[str, Path]
    offline: bool = False
    downloaded: list[str] = field(default_factory=list)  # contigs fetched by this call

    def rows(self) -> int:
        """Rows in all the files (from their footers)."""
        return sum(parquet_rows(path) for path in self.files.values())

    def size_bytes(self) -> int:
        """Bytes of all the files."""
        return sum(path.stat().st_size for path in self.files.values())

    def facts(self) -> dict[str, Any]:
        """Source, revision, files, bytes and rows, as plain data for metadata and manifests."""
        return {
            "source": self.source,
            "kind": self.kind,
            "revision": self.revision,
            "contigs": list(self.files),
            "files": [path.name for path in self.files.values()],
            "bytes": self.size_bytes(),
            "rows": self.rows(),
        }


def parquet_rows(path: Path) -> int:
    """Rows of a Parquet file from its footer; EnsemblError when it is not a readable Parquet file."""
    check_footer(path)
    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except Exception as exc:
        raise EnsemblError(f"{path.name} is not a readable Parquet file ({exc})") from exc


def repo_cache_dir(settings: Settings, repo_id: str) -> Path:
    """The cache folder of one Hugging Face dataset."""
    return settings.ensembl_cache_dir / repo_id.replace("/", "--")


def ensure_reference(
    source: str | None = None,
    contigs: Sequence[str] | None = None,
    *,
    update: bool = False,
    on_progress: DownloadProgress | None = None,
) -> EnsemblReference:
    """The reference files for `contigs` (all when None), downloading the missing ones from the hub.

    `update`: ask the hub for the branch's newest revision; otherwise the revision cached last is kept
    (the hub is asked only when nothing is cached yet).
    """
    parsed = parse_ensembl_source(source)
    wanted = parse_contigs(contigs) if contigs is not None else None
    if parsed.kind == "local":
        return _local_reference(parsed, wanted)
    return _hub_reference(parsed, wanted, update=update, on_progress=on_progress)


def _choose(available: Sequence[str], wanted: list[str] | None, where: str) -> list[str]:
    if wanted is None:
        return [c for c in CONTIGS if c in available]
    missing = [c for c in wanted if c not in available]
    if missing:
        raise EnsemblError(f"{where} has no file for chr{missing[0]} ({contig_filename(missing[0])})")
    return wanted


def _local_reference(source: EnsemblSource, wanted: list[str] | None) -> EnsemblReference:
    assert source.folder is not None
    found = local_contig_files(source.folder)
    chosen = _choose(list(found), wanted, str(source.folder))
    return EnsemblReference(
        source.label, "local", local_revision(found), {c: found[c] for c in chosen}, offline=False
    )


def _hub_reference(
    source: EnsemblSource,
    wanted: list[str] | None,
    *,
    update: bool,
    on_progress: DownloadProgress | None,
) -> EnsemblReference:
    settings = get_settings()
    assert source.repo_id is not None
    repo_dir = repo_cache_dir(settings, source.repo_id)
    ref_file = repo_dir / "refs" / ref_name(source.revision)
    pinned = ref_file.read_text().strip() if ref_file.is_file() else None
    if pinned is not None and not COMMIT.fullmatch(pinned):
        pinned = None  # a damaged pin is ignored: the hub is asked again
    why_offline = offline_reason(settings)
    hint = CLI_HINT

    if why_offline is not None:
        if pinned is None:
            raise EnsemblError(f"{why_offline} and {source.repo_id} is not cached; {hint}")
        listing = _read_listing(repo_dir / pinned)
        available = list(listing) if listing else _cached_contigs(repo_dir / pinned)
        chosen = _choose(available, wanted, f"{source.repo_id}@{pinned[:12]}")
        missing = [c for c in chosen if not _published(repo_dir, pinned, c).is_file()]
        if missing:
            names = ", ".join(f"chr{c}" for c in missing)
            raise EnsemblError(f"{why_offline} and {names} of {source.repo_id} is not cached; {hint}")
        return _reference(source, repo_dir, pinned, chosen, offline=True, downloaded=[])

    commit = pinned
    if update or commit is None:
        commit = hub_revision(source.repo_id, source.revision, settings)
        atomic_write_text(ref_file, commit + "\n")
    listing = _read_listing(repo_dir / commit)
    if listing is None:
        listing = hub_files(source.repo_id, commit, settings)
        _write_listing(repo_dir / commit, listing)
    chosen = _choose(list(listing), wanted, f"{source.repo_id}@{commit[:12]}")
    downloaded = []
    for contig in chosen:
        if not _published(repo_dir, commit, contig).is_file():
            _fetch(source.repo_id, commit, contig, listing[contig], repo_dir, settings, on_progress)
            downloaded.append(contig)
    return _reference(source, repo_dir, commit, chosen, offline=False, downloaded=downloaded)


def ref_name(revision: str | None) -> str:
    """The pin file's name for a requested branch/tag/commit (path separators made harmless)."""
    return (revision or "main").replace("/", "--")


def _reference(
    source: EnsemblSource,
    repo_dir: Path,
    commit: str,
    contigs: list[str],
    *,
    offline: bool,
    downloaded: list[str],
) -> EnsemblReference:
    files = {c: _published(repo_dir, commit, c) for c in contigs}
    return EnsemblReference(source.label, "hf", commit, files, offline=offline, downloaded=downloaded)


def _published(repo_dir: Path, commit: str, contig: str) -> Path:
    return repo_dir / commit / DATA_DIR / contig_filename(contig)


def _cached_contigs(commit_dir: Path) -> list[str]:
    return [c for c in CONTIGS if (commit_dir / DATA_DIR / contig_filename(c)).is_file()]


def _read_listing(commit_dir: Path) -> dict[str, RemoteFile] | None:
    path = commit_dir / "files.json"
    if not path.is_file():
        return None
    raw = json.loads(path.read_text())
    return {contig: RemoteFile(**entry) for contig, entry in raw.items()}


def _write_listing(commit_dir: Path, listing: dict[str, RemoteFile]) -> None:
    data = {contig: vars(remote) for contig, remote in listing.items()}
    atomic_write_text(commit_dir / "files.json", json.dumps(data, indent=2, sort_keys=True))


def _fetch(
    repo_id: str,
    commit: str,
    contig: str,
    remote: RemoteFile,
    repo_dir: Path,
    settings: Settings,
    on_progress: DownloadProgress | None,
) -> None:
    """Download (resuming), verify and publish one contig file atomically."""
    final = _published(repo_dir, commit, contig)
    part = repo_dir / ".partial" / commit / f"{final.name}.part"
    with file_lock(part.with_name(final.name + ".lock")):
        if final.is_file():  # another process published it while we waited
            return
        received = 0

        def count(n: int) -> None:
            nonlocal received
            received += n
            if on_progress is not None:
                on_progress(contig, received, remote.size)

        try:
            download_resumable(repo_id, commit, remote, part, settings, count)
        except HubDownloadError as exc:
            raise EnsemblError(str(exc)) from exc
        try:
            digest = verify_download(part, remote)
        except HubDownloadError as exc:
            # The listing may be what was wrong: the next attempt asks the hub afresh.
            (repo_dir / commit / "files.json").unlink(missing_ok=True)
            raise EnsemblError(str(exc)) from exc
        try:
            rows = parquet_rows(part)
        except EnsemblError:
            part.unlink(missing_ok=True)
            raise
        meta = {"path": remote.path, "size": remote.size, "sha256": digest, "rows": rows}
        atomic_write_text(
            repo_dir / commit / "meta" / final.with_suffix(".json").name, json.dumps(meta, indent=2)
        )
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part, final)


CLI_HINT = "use --ensembl-source with a local folder, or try again online"


def check_reachable(source: str | None = None, hint: str = CLI_HINT) -> None:
    """Fail at once (EnsemblError, ending with `hint`) when the source is a hub that cannot be reached and
    nothing is cached."""
    parsed = parse_ensembl_source(source)
    if parsed.kind == "local":
        assert parsed.folder is not None
        local_contig_files(parsed.folder)
        return
    assert parsed.repo_id is not None
    settings = get_settings()
    ref_file = repo_cache_dir(settings, parsed.repo_id) / "refs" / ref_name(parsed.revision)
    why_offline = None if ref_file.is_file() else offline_reason(settings)
    if why_offline is not None:
        raise EnsemblError(f"{why_offline} and {parsed.repo_id} is not cached; {hint}")


@dataclass(frozen=True)
class ObservedRevision:
    """The revision a source holds now (from the hub, or the cache when offline)."""

    source: str
    revision: str
    offline: bool


def observe_revision(source: str | None = None) -> ObservedRevision:
    """The source's current revision without downloading anything; offline, the one cached last."""
    parsed = parse_ensembl_source(source)
    if parsed.kind == "local":
        assert parsed.folder is not None
        return ObservedRevision(parsed.label, local_revision(local_contig_files(parsed.folder)), False)
    assert parsed.repo_id is not None
    settings = get_settings()
    why_offline = offline_reason(settings)
    if why_offline is None:
        return ObservedRevision(parsed.label, hub_revision(parsed.repo_id, parsed.revision, settings), False)
    ref_file = repo_cache_dir(settings, parsed.repo_id) / "refs" / ref_name(parsed.revision)
    if not ref_file.is_file():
        raise EnsemblError(f"{why_offline} and {parsed.repo_id} was never downloaded here")
    return ObservedRevision(parsed.label, ref_file.read_text().strip(), True)

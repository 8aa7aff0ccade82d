"""A BAM's index (.bai/.csi): found beside a local file, or fetched once per file version into a cache."""

from __future__ import annotations

import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pysam

from just_dna_pipelines.bam.source import HTTP_TIMEOUT_SECONDS, BamLocation, version_key
from just_dna_pipelines.errors import BamError

INDEX_SUFFIXES = (".bai", ".csi")


def _local_index(path: Path) -> Path | None:
    """An index file beside a local BAM (x.bam.bai, x.bam.csi or x.bai)."""
    candidates = [path.with_name(path.name + suffix) for suffix in INDEX_SUFFIXES]
    candidates.append(path.with_suffix(".bai"))
    return next((c for c in candidates if c.is_file()), None)


def _download(url: str, target: Path) -> bool:
    """Fetch `url` into `target` atomically; False when the server has no such file."""
    try:
        response = urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_SECONDS)
    except urllib.error.HTTPError as exc:
        if exc.code in (403, 404, 410):
            return False
        raise BamError(f"cannot fetch the index {url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise BamError(f"cannot reach {url}: {getattr(exc, 'reason', exc)}") from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with response, os.fdopen(fd, "wb") as out:
            while block := response.read(1 << 20):
                out.write(block)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return True


def find_index(location: BamLocation, version: str, cache_dir: Path) -> Path | None:
    """The local path of the BAM's index, downloading a remote one into `cache_dir` keyed by file version."""
    if location.path is not None:
        return _local_index(location.path)
    # Keyed by URL + ETag/size/mtime: a changed remote BAM gets a fresh index, never a stale one.
    folder = cache_dir / version_key(location, version)
    for suffix in INDEX_SUFFIXES:
        cached = folder / f"{location.name}.bam{suffix}"
        if cached.is_file() or _download(location.url + suffix, cached):
            return cached
    return None


def index_read_count(location: BamLocation, index: Path) -> int:
    """Total records according to the index: mapped + unmapped per reference, plus unplaced reads."""
    source = str(location.path) if location.path is not None else location.url
    try:
        with pysam.AlignmentFile(source, "rb", index_filename=str(index)) as bam:
            placed = sum(stat.total for stat in bam.get_index_statistics())
            return int(placed + bam.nocoordinate)
    except (OSError, ValueError) as exc:
        raise BamError(f"cannot read the index {index} of {location.url}: {exc}") from exc

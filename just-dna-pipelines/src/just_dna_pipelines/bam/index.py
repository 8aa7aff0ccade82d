"""An input's index (.bai/.csi for BAM, .crai for CRAM, .csi for BGZF SAM): found beside a local file or
fetched once per file version into a cache, and its read counts where it has them (read in Python: pysam
crashes on an index that does not belong to the BAM)."""

from __future__ import annotations

import gzip
import os
import struct
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path

from just_dna_pipelines.bam.formats import AlignmentFormat, DetectedFormat
from just_dna_pipelines.bam.source import HTTP_TIMEOUT_SECONDS, BamLocation, version_key
from just_dna_pipelines.errors import BamError

# An index inflates to megabytes for a whole genome (a deep one's .bai: ~10-20 MB); far more is not one to trust.
MAX_INDEX_BYTES = 256 << 20

# What samtools writes and htslib looks for: x.bam.bai, x.bam.csi, x.bai; x.cram.crai, x.crai; x.sam.gz.bai, .csi
INDEX_SUFFIXES = {
    AlignmentFormat.BAM: (".bai", ".csi"),
    AlignmentFormat.CRAM: (".crai",),
    AlignmentFormat.SAM: (".bai", ".csi"),
}
BAI_META_BIN = 37450  # the pseudo-bin holding a reference's mapped/unmapped counts
_I32, _U32, _U64 = struct.Struct("<i"), struct.Struct("<I"), struct.Struct("<Q")


def index_suffixes(detected: DetectedFormat) -> tuple[str, ...]:
    """The index file endings this input can have (none for plain or gzip SAM, which cannot be indexed)."""
    if detected.format is AlignmentFormat.SAM and detected.compression != "BGZF":
        return ()
    return INDEX_SUFFIXES[detected.format]


def _local_index(path: Path, suffixes: tuple[str, ...]) -> Path | None:
    """An index file beside a local input: the input's name plus the suffix, or x.bai / x.crai for x.bam / x.cram."""
    candidates = [path.with_name(path.name + suffix) for suffix in suffixes]
    if suffixes and path.suffix.lower() in (".bam", ".cram"):
        candidates.append(path.with_suffix(suffixes[0]))
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


def find_index(location: BamLocation, version: str, cache_dir: Path, detected: DetectedFormat) -> Path | None:
    """The local path of the input's index, downloading a remote one into `cache_dir` keyed by file version."""
    suffixes = index_suffixes(detected)
    if location.path is not None:
        return _local_index(location.path, suffixes)
    # Keyed by URL + ETag/size/mtime: a changed remote file gets a fresh index, never a stale one.
    folder = cache_dir / version_key(location, version)
    for suffix in suffixes:
        cached = folder / f"{location.name}.{detected.format.lower()}{suffix}"
        if cached.is_file() or _download(location.url + suffix, cached):
            return cached
    return None


def _bins_total(data: bytes, pos: int, n_ref: int, meta_bin: int, csi: bool) -> tuple[int, int]:
    """Sum mapped + unmapped from each reference's pseudo-bin; returns (total, offset after the refs)."""
    total = 0
    for _ in range(n_ref):
        (n_bin,) = _I32.unpack_from(data, pos)
        pos += 4
        for _ in range(n_bin):
            (bin_id,) = _U32.unpack_from(data, pos)
            pos += 4 + (8 if csi else 0)
            (n_chunk,) = _I32.unpack_from(data, pos)
            pos += 4
            if bin_id == meta_bin and n_chunk == 2:
                mapped, unmapped = _U64.unpack_from(data, pos + 16)[0], _U64.unpack_from(data, pos + 24)[0]
                total += mapped + unmapped
            pos += 16 * n_chunk
        if not csi:
            (n_intv,) = _I32.unpack_from(data, pos)
            pos += 4 + 8 * n_intv
    return total, pos


def index_read_count(index: Path) -> int | None:
    """Total records per a .bai or .csi (mapped + unmapped per reference, plus unplaced); None for a .crai."""
    if index.suffix == ".crai":
        return None
    try:
        with index.open("rb") as handle:
            data = handle.read(MAX_INDEX_BYTES + 1)
        if data[:2] == b"\x1f\x8b":
            with gzip.open(index, "rb") as handle:  # a .csi is BGZF-compressed
                data = handle.read(MAX_INDEX_BYTES + 1)
        if len(data) > MAX_INDEX_BYTES:  # a 600 KB .csi inflating without end took 1.3 GB
            raise BamError(
                f"the index {index.name} is larger than {MAX_INDEX_BYTES >> 20} MB; not one to trust"
            )
        if data[:4] == b"BAI\x01":
            (n_ref,) = _I32.unpack_from(data, 4)
            total, pos = _bins_total(data, 8, n_ref, BAI_META_BIN, csi=False)
        elif data[:4] == b"CSI\x01":
            _min_shift, depth, l_aux = struct.unpack_from("<iii", data, 4)
            (n_ref,) = _I32.unpack_from(data, 16 + l_aux)
            meta_bin = ((1 << (3 * depth + 3)) - 1) // 7 + 1
            total, pos = _bins_total(data, 20 + l_aux, n_ref, meta_bin, csi=True)
        else:
            raise BamError(f"the index {index.name} is not a .bai or .csi index")
        unplaced = _U64.unpack_from(data, pos)[0] if pos + 8 <= len(data) else 0
    # zlib.error: damaged deflate data (it was a traceback)
    except (struct.error, OSError, EOFError, zlib.error) as exc:
        raise BamError(f"the index {index.name} is corrupt or truncated") from exc
    return int(total + unplaced)

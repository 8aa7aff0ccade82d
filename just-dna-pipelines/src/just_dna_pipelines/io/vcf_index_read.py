"""Read a bgzipped VCF at chosen sites through its own tabix or CSI index, inflating only the blocks it names.

A whole-genome gVCF is gigabytes; the module sites sit in a few thousand of its BGZF blocks. The index says
which (bins of positions -> chunks of virtual file offsets); only those blocks are read and inflated here, each
line of them held to the line limit and every block counted against the decompressed-size limit, so htslib
never sees a line nobody checked. Lines the index does not lead to are not read at all, so a bad line elsewhere
in the file goes unnoticed, as with htslib's own indexed read. The records found (a superset of those at the
sites) go on, with the header, to the same small-file query at the sites the one-pass scan uses
(`vcf_normalize._query_sites`), and the record counts per contig come from the index's own statistics.

The index read is the one htslib would load (a .csi before a .tbi). Anything unexpected (an index this code does
not read, no counts in it, more chunks than a site read needs, a block that is not where the index says, a file
without BGZF's end marker) returns None, with the reason logged: the caller then reads the file in one pass,
which refuses a damaged file in its own words.
"""

from __future__ import annotations

import array
import gzip
import logging
import os
import struct
import sys
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from just_dna_pipelines.io.bgzf_inflate import EOF_BLOCK, BlockInflater, block_size
from just_dna_pipelines.io.genome_build import normalize_chrom
from just_dna_pipelines.io.vcf_limits import ReadLimits
from just_dna_pipelines.io.vcf_stream import line_too_long, too_large

TBI_MIN_SHIFT, TBI_DEPTH = 14, 5  # tabix's fixed binning: 16 kb windows, six levels
MAX_INDEX_BYTES = 32 << 20  # an index inflates to a few MB for a whole genome; more is not one to trust
MAX_CHUNKS = 1_000_000  # chunks the sites reach; a real index gives a few per site
_BLOCK_HEADER = 18  # a BGZF block's gzip header with bgzip's one extra field (its block size)
_HEADER_READ = 64  # bytes read to find the block size (other extra fields may come first)
_BLOCK_TRAILER = 8  # CRC32 and inflated size
MAX_SPAN_BYTES = 256 << 20  # more record text at the sites than this: the one pass reads the file instead


log = logging.getLogger(__name__)


class _Unreadable(Exception):
    """The index or the blocks it names are not what this reader understands: read the file in one pass."""


@dataclass(frozen=True)
class _Contig:
    """One reference sequence of the index: where each bin's chunk list lies in the index, and its counts."""

    bins: dict[int, tuple[int, int]]  # bin -> (offset of its chunk list in the index, chunks)
    first_offsets: Sequence[int]  # tabix linear index: the first record's virtual offset per 16 kb window
    bin_first_offsets: dict[int, int]  # CSI: each bin's smallest virtual offset
    records: int | None  # from the pseudo-bin; None when the index has none
    records_end: int | None  # the pseudo-bin's virtual offset just past the contig's last record


@dataclass(frozen=True)
class TabixIndex:
    """A parsed .tbi or .csi of a bgzipped VCF."""

    data: bytes
    min_shift: int
    depth: int
    contigs: dict[str, _Contig]  # by the VCF's own contig names, in index order

    @property
    def records_end(self) -> int | None:
        """The virtual offset just past the file's last record (None when the index does not say)."""
        ends = [contig.records_end for contig in self.contigs.values() if contig.records_end is not None]
        return max(ends) if ends else None

    def chunks(self, name: str, starts: list[int]) -> list[tuple[int, int]]:
        """Virtual offset ranges that hold every record overlapping the 0-based positions `starts` of contig
        `name` (each bin's chunk list unpacked once; _Unreadable past MAX_CHUNKS)."""
        contig = self.contigs.get(name)
        if contig is None:
            return []
        lowest: dict[int, int] = {}  # bin -> the lowest bound of the sites that need it
        for start in starts:
            bound = self._lowest_offset(contig, start)
            for bin_number in _site_bins(start, self.min_shift, self.depth):
                if bin_number in contig.bins:
                    lowest[bin_number] = min(bound, lowest.get(bin_number, bound))
        if sum(contig.bins[number][1] for number in lowest) > MAX_CHUNKS:
            raise _Unreadable
        found = []
        for bin_number, bound in lowest.items():
            at, count = contig.bins[bin_number]
            values = struct.unpack_from(f"<{2 * count}Q", self.data, at)
            found += [(b, e) for b, e in zip(values[::2], values[1::2], strict=True) if e > bound]
        return found

    def _lowest_offset(self, contig: _Contig, start: int) -> int:
        """No record overlapping `start` begins before this virtual offset (0 when the index cannot tell)."""
        if contig.first_offsets:
            return contig.first_offsets[min(start >> self.min_shift, len(contig.first_offsets) - 1)]
        # CSI: each bin keeps the offset of the first record overlapping it; the lowest existing bin holding
        # `start` bounds every record overlapping `start`
        for bin_number in reversed(_site_bins(start, self.min_shift, self.depth)):
            first = contig.bin_first_offsets.get(bin_number)
            if first is not None:
                return first
        return 0


def _level_offset(level: int) -> int:
    """The first bin number of a level (0 for the one bin spanning everything)."""
    return ((1 << (3 * level)) - 1) // 7


def _bin_at(position: int, min_shift: int, depth: int, level: int) -> int:
    """The bin of `level` holding 0-based `position`."""
    return _level_offset(level) + (position >> (min_shift + 3 * (depth - level)))


def _site_bins(position: int, min_shift: int, depth: int) -> list[int]:
    """The bins, one per level, that may hold a record overlapping 0-based `position` (htslib's binning)."""
    return [_bin_at(position, min_shift, depth, level) for level in range(depth + 1)]


def _tabix_names(data: bytes, at: int) -> tuple[list[str], int]:
    """The contig names of tabix's header fields at `at` (format ... l_nm, names); the offset after them."""
    n_ref, _fmt, _col_seq, _col_beg, _col_end, _meta, _skip, names_length = struct.unpack_from(
        "<8i", data, at
    )
    at += 32
    names = data[at : at + names_length].split(b"\0")[:n_ref]
    if len(names) != n_ref:
        raise _Unreadable
    return [name.decode("utf-8", errors="replace") for name in names], at + names_length


def parse_index(
    raw: bytes, wanted: Callable[[str, int, int], set[int]] | None = None, *, unnamed: bool = False
) -> TabixIndex:
    """Parse an inflated .tbi or .csi (raises _Unreadable for anything else, or a CSI without contig names
    unless `unnamed`: a BCF's, its contigs then called by their numbers), keeping of each contig only the bins
    `wanted(name, min_shift, depth)` names (memory follows the sites; every bin without `wanted`)."""
    try:
        if raw[:4] == b"TBI\x01":
            names, at = _tabix_names(raw, 4)
            return _parse_contigs(raw, at, names, TBI_MIN_SHIFT, TBI_DEPTH, wanted, csi=False)
        if raw[:4] == b"CSI\x01":
            min_shift, depth, aux_length = struct.unpack_from("<3i", raw, 4)
            if aux_length < 0:
                raise _Unreadable
            (n_ref,) = struct.unpack_from("<i", raw, 16 + aux_length)
            if not 0 <= n_ref <= len(raw) // 4:  # each contig takes at least its 4-byte bin count
                raise _Unreadable
            if aux_length >= 28:
                names = _csi_names(raw[16 : 16 + aux_length])
            elif unnamed:  # a BCF's CSI: its contigs are named by the BCF header, not here
                names = [str(number) for number in range(n_ref)]
            else:
                raise _Unreadable
            if len(names) != n_ref:
                raise _Unreadable
            return _parse_contigs(raw, 16 + aux_length + 4, names, min_shift, depth, wanted, csi=True)
    except struct.error as exc:
        raise _Unreadable from exc
    raise _Unreadable


def _csi_names(aux: bytes) -> list[str]:
    """Contig names in a CSI's aux data (format, col_seq, col_beg, col_end, meta, skip, l_nm, names)."""
    names_length = struct.unpack_from("<i", aux, 24)[0]
    names = aux[28 : 28 + names_length].split(b"\0")
    return [name.decode("utf-8", errors="replace") for name in names if name]


def _parse_contigs(
    data: bytes,
    at: int,
    names: list[str],
    min_shift: int,
    depth: int,
    wanted: Callable[[str, int, int], set[int]] | None,
    *,
    csi: bool,
) -> TabixIndex:
    """Walk the per-contig bin lists, keeping the wanted bins (their chunk lists left packed until a site needs
    them) and each contig's record count."""
    if not (0 < min_shift < 32 and 0 <= depth <= 10):
        raise _Unreadable
    pseudo = ((1 << (3 * (depth + 1))) - 1) // 7 + 1
    contigs: dict[str, _Contig] = {}
    for name in names:
        keep = wanted(name, min_shift, depth) if wanted is not None else None
        (n_bin,) = struct.unpack_from("<i", data, at)
        at += 4
        bins: dict[int, tuple[int, int]] = {}
        bin_first: dict[int, int] = {}
        records: int | None = None
        records_end: int | None = None
        for _ in range(n_bin):
            if csi:
                bin_number, first, n_chunk = struct.unpack_from("<IQi", data, at)
                at += 16
                if keep is None or bin_number in keep:
                    bin_first[bin_number] = first
            else:
                bin_number, n_chunk = struct.unpack_from("<Ii", data, at)
                at += 8
            if n_chunk < 0 or at + 16 * n_chunk > len(data):
                raise _Unreadable
            if bin_number == pseudo:
                if n_chunk == 2:  # (first record's offset, offset past the last), then mapped, unmapped
                    _begin, records_end, records, _unmapped = struct.unpack_from("<4Q", data, at)
            elif keep is None or bin_number in keep:
                bins[bin_number] = (at, n_chunk)
            at += 16 * n_chunk
        first_offsets: Sequence[int] = ()
        if not csi:
            (n_intv,) = struct.unpack_from("<i", data, at)
            at += 4
            if n_intv < 0 or at + 8 * n_intv > len(data):
                raise _Unreadable
            first_offsets = _uint64s(data[at : at + 8 * n_intv])  # no int object per window until asked
            at += 8 * n_intv
        contigs[name] = _Contig(bins, first_offsets, bin_first, records, records_end)
    return TabixIndex(data, min_shift, depth, contigs)


def _uint64s(little_endian: bytes) -> array.array:
    """Little-endian unsigned 64-bit integers as a compact array."""
    values = array.array("Q", little_endian)
    if sys.byteorder == "big":
        values.byteswap()
    return values


def load_index(
    index: Path, wanted: Callable[[str, int, int], set[int]] | None = None, *, unnamed: bool = False
) -> TabixIndex:
    """Inflate and parse a .tbi or .csi (raises _Unreadable); `wanted` and `unnamed` as in parse_index."""
    try:
        with gzip.open(index, "rb") as handle:
            raw = handle.read(MAX_INDEX_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise _Unreadable from exc
    if len(raw) > MAX_INDEX_BYTES:
        raise _Unreadable
    return parse_index(raw, wanted, unnamed=unnamed)


def _merged(chunks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, with overlapping or touching ranges joined, so no byte is read twice."""
    merged: list[list[int]] = []
    for begin, end in sorted(chunks):
        if merged and begin <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([begin, end])
    return [(begin, end) for begin, end in merged]


class _BlockReader:
    """BGZF blocks at given file offsets, inflated and checked (size, CRC32), each block inflated once in a row
    and counted against the decompressed-size limit once."""

    def __init__(self, path: Path, limits: ReadLimits) -> None:
        self.path = path
        self.limits = limits
        self.inflated = 0
        self.held = 0  # span bytes handed out
        self._last: tuple[int, bytes, int] | None = None  # (offset, text, next offset) of the last block
        self._fd = os.open(path, os.O_RDONLY)
        self._inflater = BlockInflater()

    def close(self) -> None:
        os.close(self._fd)
        self._inflater.close()

    def block(self, offset: int) -> tuple[bytes, int]:
        """The inflated block starting at `offset`, and the offset of the next block."""
        if self._last is not None and self._last[0] == offset:  # a span starting where the previous ended
            return self._last[1], self._last[2]
        head = os.pread(self._fd, _HEADER_READ, offset)
        try:
            size = block_size(head, 0) if len(head) >= _BLOCK_HEADER else None
        except struct.error:  # extra fields running past what was read
            size = None
        if size is None:
            raise _Unreadable  # not a BGZF block: the one pass says what is wrong
        extra = struct.unpack_from("<H", head, 10)[0]
        whole = os.pread(self._fd, size, offset)
        if len(whole) != size or size < 12 + extra + _BLOCK_TRAILER:
            raise _Unreadable
        crc, length = struct.unpack_from("<II", whole, size - _BLOCK_TRAILER)
        text = self._inflater.inflate(whole[12 + extra : size - _BLOCK_TRAILER], length)
        if text is None or zlib.crc32(text) != crc:
            raise _Unreadable
        self.inflated += length
        if self.inflated > self.limits.max_decompressed_bytes:
            raise too_large(self.path, self.limits)
        self._last = (offset, text, offset + size)
        return text, offset + size

    def span(self, begin: int, end: int) -> bytes:
        """The inflated bytes from virtual offset `begin` up to (not including) virtual offset `end`."""
        offset, skip = begin >> 16, begin & 0xFFFF
        last, stop = end >> 16, end & 0xFFFF
        if (offset, skip) >= (last, stop):
            return b""
        parts = []
        while True:
            text, following = self.block(offset)
            if skip > len(text) or (offset == last and stop > len(text)):
                raise _Unreadable
            parts.append(text[skip:stop] if offset == last else text[skip:])
            self.held += len(parts[-1])
            if self.held > MAX_SPAN_BYTES:
                raise _Unreadable  # more than any site read needs: the one pass reads the file instead
            if offset == last:
                return b"".join(parts)
            if following > last:
                raise _Unreadable  # the end offset is not at a block of the file
            skip, offset = 0, following

    def header(self) -> bytes:
        """The header lines at the start of the file, each checked against the line limit."""
        text = bytearray()
        offset, line_start, file_size = 0, 0, os.fstat(self._fd).st_size
        while offset < file_size:
            block, offset = self.block(offset)
            text += block
            while (newline := text.find(b"\n", line_start)) >= 0:
                if newline - line_start > self.limits.max_line_bytes:
                    raise line_too_long(self.path, self.limits)
                if text[line_start] != ord("#"):
                    return bytes(text[:line_start])
                line_start = newline + 1
            if len(text) - line_start > self.limits.max_line_bytes:
                raise line_too_long(self.path, self.limits)
        return bytes(text[:line_start])


@dataclass(frozen=True)
class IndexedSites:
    """What the index-driven read found: the header, candidate records (file order), records per contig."""

    header: bytes
    kept: bytes
    contig_counts: dict[str, int]
    inflated_bytes: int  # what was inflated: the header's blocks and those the index named


def _check_lines(text: bytes, path: Path, limits: ReadLimits) -> None:
    """Refuse a line longer than the limit among `text`'s lines."""
    start = 0
    while (newline := text.find(b"\n", start)) >= 0:
        if newline - start > limits.max_line_bytes:
            raise line_too_long(path, limits)
        start = newline + 1
    if len(text) - start > limits.max_line_bytes:
        raise line_too_long(path, limits)


def _ends_with_eof_marker(path: Path) -> bool:
    """Whether the file ends with BGZF's empty end-of-file block (bgzip and htslib always write it)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        handle.seek(max(0, size - len(EOF_BLOCK)))
        return handle.read() == EOF_BLOCK


# Empty BGZF blocks allowed between the last record and the end-of-file block (bgzip writes none; more is odd).
MAX_TRAILING_BLOCKS = 64


def _records_end_here(reader: _BlockReader, parsed: TabixIndex, file_size: int) -> bool:
    """Whether the index's last record ends where the file's records end: nothing but empty blocks after it.

    An index of another file, or of this file before it was rewritten (htslib's timestamp check passes when the
    index was made or touched later), names offsets that are not this file's; followed, it would silently
    leave out records (a genome read as a few thousand records, every module site "not in the file").
    """
    end = parsed.records_end
    if end is None:
        return not any(contig.records for contig in parsed.contigs.values())
    offset, within = end >> 16, end & 0xFFFF
    if (offset, within) == (file_size, 0):
        return True  # past the end-of-file block, as bcftools indexes a BCF
    for blocks in range(MAX_TRAILING_BLOCKS + 1):
        if offset >= file_size:
            return blocks > 0 and offset == file_size
        text, offset = reader.block(offset)
        if len(text) != (within if blocks == 0 else 0):
            return False
    return False


def index_matches_file(path: Path, index: Path, limits: ReadLimits) -> bool:
    """Whether `index` (.tbi or .csi, a BCF's too) was made from `path` as it is now, by where its last record
    ends; False for an index this reader cannot follow."""
    try:
        parsed = load_index(index, lambda _name, _shift, _depth: set(), unnamed=True)
        if not _ends_with_eof_marker(path):
            return False
        reader = _BlockReader(path, limits)
        try:
            return _records_end_here(reader, parsed, path.stat().st_size)
        finally:
            reader.close()
    except (_Unreadable, OSError):
        return False


def read_sites_by_index(
    path: Path, index: Path, sites: pl.DataFrame, limits: ReadLimits
) -> IndexedSites | None:
    """The header and every record the index places at `sites` (chrom, 1-based start) of a bgzipped VCF, read
    within `limits`; None when the index or the blocks it names are not usable (read the file in one pass)."""
    by_contig: dict[str, list[int]] = {}  # normalized contig -> 0-based positions of the sites
    for chrom, start in sites.select("chrom", "start").drop_nulls().unique().iter_rows():
        if start >= 1:
            by_contig.setdefault(normalize_chrom(chrom), []).append(start - 1)

    def wanted(name: str, min_shift: int, depth: int) -> set[int]:
        starts = by_contig.get(normalize_chrom(name), [])
        return {number for start in starts for number in _site_bins(start, min_shift, depth)}

    try:
        parsed = load_index(index, wanted)
        counts = {name: contig.records for name, contig in parsed.contigs.items()}
        if any(count is None for count in counts.values()):
            return _unusable(index, "it has no per-contig counts (an older tabix)")
        chunks: list[tuple[int, int]] = []
        for name in parsed.contigs:
            chunks += parsed.chunks(name, by_contig.get(normalize_chrom(name), []))
            if len(chunks) > MAX_CHUNKS:
                raise _Unreadable
    except _Unreadable:
        return _unusable(index, "it is not an index this reader follows")
    if not _ends_with_eof_marker(path):
        return _unusable(index, "the file lacks BGZF's end-of-file block (cut after indexing?)")
    reader = _BlockReader(path, limits)
    spans: list[bytes] = []
    try:
        if not _records_end_here(reader, parsed, path.stat().st_size):
            return _unusable(
                index, "its last record does not end where the file's do (not this file's index?)"
            )
        header = reader.header()
        for begin, end in _merged(chunks):
            span = reader.span(begin, end)
            if span and not span.endswith(b"\n"):
                return _unusable(index, "a chunk ends inside a record (not this file's index?)")
            spans.append(span)
    except _Unreadable:
        return _unusable(index, "the blocks it names are not where it says (not this file's index?)")
    finally:
        reader.close()
    if not header.rstrip(b"\n").rsplit(b"\n", 1)[-1].startswith(b"#CHROM"):
        return _unusable(index, "lines between the header and the records")
    kept = b"".join(spans)
    _check_lines(kept, path, limits)
    counted = {name: count for name, count in counts.items() if count}
    return IndexedSites(header, kept, counted, reader.inflated)


def _unusable(index: Path, why: str) -> IndexedSites | None:
    """Say why an index is not followed (the caller then reads the file in one pass)."""
    log.info("not reading through %s: %s; reading the whole file in one pass", index.name, why)
    return None

"""One pass over a bgzipped VCF: its bounds, its records per contig, and the records that may overlap chosen sites.

This replaces building a tabix index (a few seconds for a whole genome) and the separate bounds pass: the
BGZF blocks are inflated on several threads (bam/bgzf_parallel.py) and the lines are walked by a small C
scanner (csrc/vcf_scan.c) that checks the line and size limits on the way. The records it keeps are a
superset of what an index query at the sites returns; the caller indexes them alone
(`vcf_index.index_kept_records`) and runs that very query over them, so the result is the indexed read's.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from just_dna_pipelines.bam.buffer import DecompressedBuffer
from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.io.genome_build import normalize_chrom
from just_dna_pipelines.io.vcf_header import VcfHeader
from just_dna_pipelines.io.vcf_limits import ReadLimits
from just_dna_pipelines.io.vcf_stream import line_too_long, too_large

READ_BYTES = 4 << 20  # decompressed bytes per refill (the buffer grows for a longer line)
KEPT_BYTES = 1 << 20  # room for kept records between hand-overs to Python
MAX_KEPT_BYTES = 256 << 20  # more kept records than this and the general path reads the file instead
THREADS = 2
_i64 = ctypes.c_int64

# vcf_scan's return codes (csrc/vcf_scan.c)
NEED_DATA, NEW_CONTIG, OUT_FULL, UNUSUAL, LINE_TOO_LONG = 0, 1, 2, 3, -1


class _ScanState(ctypes.Structure):
    """vcf_scan_state of csrc/vcf_scan.c, field for field."""

    _fields_ = [
        ("lines", _i64),
        ("blank_lines", _i64),
        ("records", _i64),
        ("in_records", _i64),
        ("max_line", _i64),
        ("columns", _i64),
        ("use_end", _i64),
        ("use_svlen", _i64),
        ("contig", ctypes.c_void_p),
        ("contig_len", _i64),
        ("sites", ctypes.c_void_p),
        ("n_sites", _i64),
        ("cursor", _i64),
        ("last_pos", _i64),
        ("out", ctypes.c_void_p),
        ("out_len", _i64),
        ("out_cap", _i64),
    ]


@dataclass(frozen=True)
class SiteScan:
    """What one pass over a bgzipped VCF found."""

    header: bytes  # the header lines, byte for byte
    kept: bytes  # record lines that may overlap a site, in file order, each ending in a newline
    contig_counts: dict[str, int]  # record lines per contig, as the records name it, in file order
    record_lines: int  # every record line


def site_scan_available() -> bool:
    """Whether this installation has the C helpers and libdeflate the scan needs."""
    from just_dna_pipelines.bam.bgzf_parallel import parallel_reader_available

    return parallel_reader_available()


class _Unusual(Exception):
    """The file holds something the scan does not read the way the full reader does."""


def _site_arrays(sites: pl.DataFrame) -> dict[str, ctypes.Array]:
    """Each normalized contig's distinct site positions, ascending, as C arrays."""
    arrays: dict[str, ctypes.Array] = {}
    grouped = (
        sites.select("chrom", "start").drop_nulls().unique().group_by("chrom").agg(pl.col("start").sort())
    )
    for chrom, starts in grouped.iter_rows():
        arrays[chrom] = (_i64 * len(starts))(*starts)
    return arrays


def _vcf_damage(url: str, damage: object) -> Exception:
    """The bgzipped VCF's one-line error for a BGZF problem; _Unusual where the general reader decides."""
    kind = getattr(damage, "kind", "")
    name = Path(url).name
    if kind == "cut":
        return VcfError(f"{name} is truncated (its gzip data ends early)")
    if kind == "checksum":
        return VcfError(f"{name} is a damaged gzip file (invalid compressed data)")
    return _Unusual()  # not BGZF from here on (another kind of gzip member, or damage): zlib tells


class _Scan:
    """The loop around vcf_scan: refills, contig changes, kept records, limits."""

    def __init__(self, path: Path, header: VcfHeader, sites: pl.DataFrame, limits: ReadLimits) -> None:
        self.path = path
        self.limits = limits
        self.sites = _site_arrays(sites)
        self.state = _ScanState(
            max_line=limits.max_line_bytes,
            columns=9 + len(header.samples),
            use_end="END" in header.info_fields,
            use_svlen="SVLEN" in header.info_fields,
            contig_len=-1,
            out_cap=KEPT_BYTES,
        )
        self.out = bytearray(KEPT_BYTES)
        self._pinned_out = (ctypes.c_char * KEPT_BYTES).from_buffer(self.out)
        self.state.out = ctypes.addressof(self._pinned_out)
        self.header_parts: list[bytes] = []
        self.kept_parts: list[bytes] = []
        self.kept_size = 0
        self.counts: dict[str, int] = {}
        self.contig: str | None = None
        self.contig_name = b""  # held so the C pointer to it stays valid
        self.contig_first_record = 0

    def _close_contig(self) -> None:
        if self.contig is not None:
            self.counts[self.contig] = self.state.records - self.contig_first_record

    def _new_contig(self, name: bytes) -> None:
        """Point the scanner at the contig the record at hand names (records must not come back to one)."""
        self._close_contig()
        contig = name.decode("utf-8", errors="replace")
        if contig in self.counts or contig == self.contig:
            raise _Unusual()  # a contig met again: out of order, no index could be built
        self.contig, self.contig_name = contig, name
        self.contig_first_record = self.state.records
        self.state.contig = ctypes.cast(ctypes.c_char_p(name), ctypes.c_void_p)
        self.state.contig_len = len(name)
        array = self.sites.get(normalize_chrom(contig))
        self.state.sites = ctypes.addressof(array) if array is not None else None
        self.state.n_sites = len(array) if array is not None else 0
        self.state.cursor = 0
        self.state.last_pos = 0

    def _hand_over(self) -> None:
        """Move the kept records out of the C buffer."""
        if self.state.out_len:
            self.kept_parts.append(bytes(self.out[: self.state.out_len]))
            self.kept_size += self.state.out_len
            self.state.out_len = 0
            if self.kept_size > MAX_KEPT_BYTES:
                raise _Unusual()

    def scan(self, data: DecompressedBuffer) -> None:
        """Scan every complete line in the buffer."""
        from just_dna_pipelines.bam.native import native_library

        lib = native_library()
        assert lib is not None
        offset = _i64(data.start)
        state_ref = ctypes.byref(self.state)
        while True:
            start = offset.value
            code = lib.vcf_scan(data.address, data.end, ctypes.byref(offset), state_ref)
            if self.contig is None:  # no record is consumed before the first contig is set: all header
                self.header_parts.append(bytes(data.data[start : offset.value]))
            if code == NEED_DATA:
                break
            if code == NEW_CONTIG:  # the scanner has seen the record's tabs: its name ends at the first
                self._new_contig(
                    bytes(data.data[offset.value : data.data.find(b"\t", offset.value, data.end)])
                )
            elif code == OUT_FULL:
                self._hand_over()
            elif code == LINE_TOO_LONG:
                raise line_too_long(self.path, self.limits)
            else:
                raise _Unusual()
        data.consume(offset.value)
        if data.pending > self.limits.max_line_bytes:
            raise line_too_long(self.path, self.limits)

    def result(self) -> SiteScan:
        """What the pass found (call once every line is scanned)."""
        self._close_contig()
        self._hand_over()
        return SiteScan(
            header=b"".join(self.header_parts),
            kept=b"".join(self.kept_parts),
            contig_counts=self.counts,
            record_lines=int(self.state.records),
        )


def scan_sites(path: Path, header: VcfHeader, sites: pl.DataFrame, limits: ReadLimits) -> SiteScan | None:
    """Read a bgzipped VCF once within `limits`; None when the general reader must decide (another kind of gzip
    member, or lines the scan does not read as the full reader does: see csrc/vcf_scan.c).

    Raises VcfError, as the general reader does, for a cut or damaged file and a line or total beyond the limits.
    """
    from just_dna_pipelines.bam.bgzf_parallel import ParallelBgzfReader

    scan = _Scan(path, header, sites, limits)
    total = 0
    try:
        with ParallelBgzfReader(path, THREADS, require_eof=False, error=_vcf_damage) as reader:
            data = DecompressedBuffer(reader, READ_BYTES, ahead=True)
            while True:
                kept = data.pending
                more = data.fill()
                total += data.end - kept
                if total > limits.max_decompressed_bytes:
                    raise too_large(path, limits)
                if not more:
                    break
                scan.scan(data)
            if data.pending:  # a last line without its newline
                data.data[data.end] = ord("\n")
                data.end += 1
                scan.scan(data)
    except _Unusual:
        return None
    return scan.result()

"""Walk BAM records in decompressed bytes and pull out the few fields chunk statistics need, per batch.

Python only walks the record boundaries (one struct read per record); the fields are then gathered
column-wise by Polars from the raw buffer, which is what keeps this near C speed.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl
import pyarrow as pa

from just_dna_pipelines.bam.htslib import BgzfReader
from just_dna_pipelines.errors import BamError

BAM_MAGIC = b"BAM\x01"
_i32 = struct.Struct("<i").unpack_from
# Byte offsets inside a record (after its 4-byte block_size): refID 4..7, pos 8..11, MAPQ 13, flag 18..19.
_REF_ID_HIGH, _POS, _MAPQ, _FLAG_LOW = 7, 8, 13, 18
_MIN_RECORD = 32  # the fixed part of a record after block_size


@dataclass(frozen=True)
class BamHeader:
    """What the BAM header says that the statistics report."""

    reference_names: tuple[str, ...]
    text: str


def parse_header(buf: bytes | bytearray, name: str) -> tuple[BamHeader, int] | None:
    """The header and the offset of the first record, or None if `buf` does not hold the whole header yet."""
    if len(buf) < 4:
        return None
    if buf[:4] != BAM_MAGIC:
        raise BamError(f"{name} is BGZF-compressed but not a BAM file (no BAM magic; VCF or other data?)")
    if len(buf) < 12:
        return None
    l_text = _i32(buf, 4)[0]
    pos = 8 + l_text
    if l_text < 0:
        raise BamError(f"{name} has a corrupt BAM header")
    if len(buf) < pos + 4:
        return None
    text = bytes(buf[8:pos]).split(b"\x00", 1)[0].decode("utf-8", "replace")
    n_ref = _i32(buf, pos)[0]
    pos += 4
    names: list[str] = []
    for _ in range(n_ref):
        if len(buf) < pos + 4:
            return None
        l_name = _i32(buf, pos)[0]
        if len(buf) < pos + 4 + l_name + 4:
            return None
        names.append(bytes(buf[pos + 4 : pos + 3 + l_name]).decode("ascii", "replace"))
        pos += 4 + l_name + 4
    return BamHeader(reference_names=tuple(names), text=text), pos


def _walk(buf: bytearray | bytes, start: int) -> tuple[array, int]:
    """Offsets of the complete records from `start`, and where the first incomplete one begins."""
    offsets = array("q")
    append = offsets.append
    end = len(buf) - 4
    pos = start
    while pos <= end:
        append(pos)
        size = _i32(buf, pos)[0]
        if size < _MIN_RECORD:
            raise BamError(f"corrupt BAM record (block size {size}) at decompressed offset {pos}")
        pos += size + 4
    if pos > len(buf):
        pos = offsets.pop()
    return offsets, pos


# The bytes gathered per record, by column name: byte offsets inside the record.
FIELD_BYTES = {
    "pos0": _POS,
    "pos1": _POS + 1,
    "pos2": _POS + 2,
    "pos3": _POS + 3,
    "mapq": _MAPQ,
    "flag_low": _FLAG_LOW,
    "ref_id_high": _REF_ID_HIGH,
}


def _fields(buf: bytearray | bytes, offsets: array) -> pl.DataFrame:
    """Per record, the raw bytes of position, MAPQ, low flag byte and refID's high byte (one gather)."""
    raw = pl.Series(pa.Array.from_buffers(pa.uint8(), len(buf), [None, pa.py_buffer(buf)]))
    at = pl.Series(pa.Array.from_buffers(pa.int64(), len(offsets), [None, pa.py_buffer(offsets)]))
    gathered = raw.gather(pl.concat([at + k for k in FIELD_BYTES.values()]))
    n = len(offsets)
    return pl.DataFrame({name: gathered.slice(i * n, n) for i, name in enumerate(FIELD_BYTES)})


def iter_record_fields(reader: BgzfReader, name: str) -> Iterator[pl.DataFrame]:
    """Yield per-record fields, a few MB of records at a time, in file order; raises on a truncated record."""
    carry: bytes | bytearray = b""
    header_done = False
    while (buf := reader.read_after(carry)) is not None:
        start = 0
        if not header_done:
            parsed = parse_header(buf, name)
            if parsed is None:
                carry = buf
                continue
            start = parsed[1]
            header_done = True
        offsets, rest = _walk(buf, start)
        if offsets:
            yield _fields(buf, offsets)
        carry = buf[rest:]
    if not header_done:
        raise BamError(f"{name} is truncated: the BAM header is incomplete")
    if carry:
        raise BamError(f"{name} is truncated: it ends inside a read record")

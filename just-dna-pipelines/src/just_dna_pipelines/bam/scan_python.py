"""The scanner used when the C scanner is not built: Python walks record boundaries, Polars does the rest.

Python only walks the record boundaries (one struct read per record); the fields are then gathered
column-wise by Polars from the raw bytes, and grouped by chunk. About 0.8 M reads/s, against tens of
millions for the C scanner, whose results the tests compare it with.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Iterator

import polars as pl
import pyarrow as pa

from just_dna_pipelines.bam.buffer import DecompressedBuffer
from just_dna_pipelines.bam.chunk import ChunkStats
from just_dna_pipelines.bam.records import (
    FLAG_LOW_BYTE,
    FLAG_UNMAPPED,
    MAPQ,
    MIN_BLOCK_SIZE,
    POS,
    REF_ID_HIGH_BYTE,
    corrupt_record,
    oversized_record,
    truncated_record,
)

_i32 = struct.Struct("<i").unpack_from


def _walk(buf: bytes, start: int, name: str, reads_before: int) -> tuple[array, int]:
    """Offsets of the complete records from `start`, and where the first incomplete one begins."""
    offsets = array("q")
    append = offsets.append
    end = len(buf) - 4
    pos = start
    while pos <= end:
        append(pos)
        size = _i32(buf, pos)[0]
        if size < MIN_BLOCK_SIZE:
            raise corrupt_record(name, size, reads_before + len(offsets) - 1)
        pos += size + 4
    if pos > len(buf):
        pos = offsets.pop()
    return offsets, pos


# The bytes gathered per record, by column name: byte offsets inside the record.
FIELD_BYTES = {
    "pos0": POS,
    "pos1": POS + 1,
    "pos2": POS + 2,
    "pos3": POS + 3,
    "mapq": MAPQ,
    "flag_low": FLAG_LOW_BYTE,
    "ref_id_high": REF_ID_HIGH_BYTE,
}


def _fields(buf: bytearray | bytes, offsets: array) -> pl.DataFrame:
    """Per record, the raw bytes of position, MAPQ, low flag byte and refID's high byte (one gather)."""
    raw = pl.Series(pa.Array.from_buffers(pa.uint8(), len(buf), [None, pa.py_buffer(buf)]))
    at = pl.Series(pa.Array.from_buffers(pa.int64(), len(offsets), [None, pa.py_buffer(offsets)]))
    gathered = raw.gather(pl.concat([at + k for k in FIELD_BYTES.values()]))
    n = len(offsets)
    return pl.DataFrame({name: gathered.slice(i * n, n) for i, name in enumerate(FIELD_BYTES)})


def _aggregate(fields: pl.DataFrame, first_read: int, chunk_size: int) -> list[ChunkStats]:
    """Per-chunk stats of one batch of reads (raw field bytes) whose first read has 0-based ordinal `first_read`."""
    mapped = (pl.col("flag_low") & FLAG_UNMAPPED) == 0
    # little-endian signed int32 from its bytes, made 1-based; only kept for mapped reads
    position = (
        pl.col("pos0").cast(pl.Int64)
        + pl.col("pos1").cast(pl.Int64) * 0x100
        + pl.col("pos2").cast(pl.Int64) * 0x10000
        + pl.col("pos3").cast(pl.Int64) * 0x1000000
        - (pl.col("pos3") >= 0x80).cast(pl.Int64) * 0x100000000
        + 1
    )
    table = (
        fields.lazy()
        .select(  # masked columns, so the per-chunk aggregations are plain sums / mins / maxes
            chunk=(pl.int_range(pl.len(), dtype=pl.Int64) + first_read) // chunk_size + 1,
            mapped=mapped.cast(pl.Int64),
            mapq=pl.when(mapped).then(pl.col("mapq").cast(pl.Int64)).otherwise(0),
            pos=pl.when(mapped).then(position),
            unplaced=(pl.col("ref_id_high") == 0xFF).cast(pl.Int64),  # refID -1; real ones are < 2**24
        )
        .group_by("chunk", maintain_order=True)
        .agg(
            total=pl.len(),
            mapped=pl.col("mapped").sum(),
            mapq_sum=pl.col("mapq").sum(),
            pos_min=pl.col("pos").min(),
            pos_max=pl.col("pos").max(),
            unplaced=pl.col("unplaced").sum(),
        )
        .collect()
    )
    return [ChunkStats(*row) for row in table.iter_rows()]


def python_chunk_batches(data: DecompressedBuffer, chunk_size: int, name: str) -> Iterator[list[ChunkStats]]:
    """Chunk stats of the records in `data`, a buffer at a time (a chunk may span two batches)."""
    reads = 0
    while True:
        buf = data.view()
        offsets, rest = _walk(buf, 0, name, reads)
        if offsets:
            yield _aggregate(_fields(buf, offsets), reads, chunk_size)
            reads += len(offsets)
            data.consume(data.start + rest)
        elif error := oversized_record(name, buf[:4], reads):
            raise error
        elif not data.fill():
            if data.pending:
                raise truncated_record(name)
            return

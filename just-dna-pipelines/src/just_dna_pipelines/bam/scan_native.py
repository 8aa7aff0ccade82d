"""The C chunk scanner (csrc/chunk_scan.c, built with the package) and the loop that feeds it buffers.

The scanner walks a whole decompressed buffer in one call (tens of millions of reads per second), so the
cost of streaming a BAM is the decompression, which htslib spreads over its own threads.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator

from just_dna_pipelines.bam.buffer import DecompressedBuffer
from just_dna_pipelines.bam.chunk import ChunkStats
from just_dna_pipelines.bam.native import native_library
from just_dna_pipelines.bam.records import corrupt_record, oversized_record, truncated_record

COLUMNS = 6  # total, mapped, mapq_sum, pos_min, pos_max, unplaced (the C enum's order)
ROWS = 4096  # chunks one call may fill; the call stops early rather than overflow
_NO_MIN, _NO_MAX = 2**63 - 1, -(2**63)
_i64 = ctypes.c_int64


def chunks_from_rows(values: list[int], rows: int, first_chunk_id: int) -> list[ChunkStats]:
    """ChunkStats from a C scanner's rows (flat list, COLUMNS per row; record_scan.c fills the same)."""
    found = []
    for row in range(rows):
        total, mapped, mapq_sum, low, high, unplaced = values[row * COLUMNS : (row + 1) * COLUMNS]
        found.append(
            ChunkStats(
                chunk_id=first_chunk_id + row,
                total_reads=total,
                mapped_reads=mapped,
                mapq_sum=mapq_sum,
                position_min=None if low == _NO_MIN else low,
                position_max=None if high == _NO_MAX else high,
                unplaced_reads=unplaced,
            )
        )
    return found


def native_chunk_batches(data: DecompressedBuffer, chunk_size: int, name: str) -> Iterator[list[ChunkStats]]:
    """Chunk stats of the records in `data`, a buffer at a time (a chunk may span two batches)."""
    lib = native_library()
    if lib is None:
        raise RuntimeError("the C chunk scanner is not built")
    out = (_i64 * (COLUMNS * ROWS))()
    offset, reads, rows = _i64(), _i64(0), _i64()
    while True:
        reads_before = reads.value
        offset.value = data.start
        status = lib.chunk_scan(
            data.address,
            data.end,
            ctypes.byref(offset),
            ctypes.byref(reads),
            chunk_size,
            out,
            ROWS,
            ctypes.byref(rows),
        )
        data.consume(offset.value)
        if rows.value:
            yield chunks_from_rows(out[: rows.value * COLUMNS], rows.value, reads_before // chunk_size + 1)
        if status != 0:
            block_size = int.from_bytes(data.data[offset.value : offset.value + 4], "little", signed=True)
            raise corrupt_record(name, block_size, reads.value)
        if reads.value != reads_before:
            continue
        if error := oversized_record(
            name, data.data[data.start : min(data.start + 4, data.end)], reads.value
        ):
            raise error
        if not data.fill():
            if data.pending:
                raise truncated_record(name)
            return

"""Chunk statistics of the records htslib decodes (CRAM, SAM): the C loop when built, else a Python loop.

The C loop (csrc/record_scan.c) calls htslib's sam_read1 itself, so a CRAM streams as fast as htslib
decodes it; the Python loop makes one ctypes call per record (a few hundred thousand reads a second).
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator

from just_dna_pipelines.bam.chunk import ChunkStats
from just_dna_pipelines.bam.hts_records import HtsRecordReader
from just_dna_pipelines.bam.native import native_library
from just_dna_pipelines.bam.records import FLAG_UNMAPPED
from just_dna_pipelines.bam.scan_native import COLUMNS, ROWS, chunks_from_rows

READS_PER_CALL = 1 << 18  # reads decoded between progress reports
_END_OF_FILE = 1
_i64 = ctypes.c_int64


def native_record_batches(
    reader: HtsRecordReader, chunk_size: int, reads_per_call: int = READS_PER_CALL
) -> Iterator[list[ChunkStats]]:
    """Chunk stats of every record, `reads_per_call` reads at a time (a chunk may span two batches)."""
    lib = native_library()
    if lib is None:
        raise RuntimeError("the C record scanner is not built")
    read_record = ctypes.cast(reader.lib.sam_read1, ctypes.c_void_p)
    file = ctypes.cast(reader.file, ctypes.c_void_p)
    out = (_i64 * (COLUMNS * ROWS))()
    reads, rows = _i64(0), _i64()
    while True:
        reads_before = reads.value
        status = lib.record_scan(
            read_record,
            file,
            reader.header,
            reader.record,
            ctypes.byref(reads),
            chunk_size,
            reads_per_call,
            out,
            ROWS,
            ctypes.byref(rows),
        )
        if rows.value:
            yield chunks_from_rows(out[: rows.value * COLUMNS], rows.value, reads_before // chunk_size + 1)
        if status < 0:
            raise reader.read_error(reads.value)
        if status == _END_OF_FILE:
            return


def python_record_batches(
    reader: HtsRecordReader, chunk_size: int, reads_per_call: int = READS_PER_CALL
) -> Iterator[list[ChunkStats]]:
    """The same chunk stats as native_record_batches, one ctypes call per record."""
    read, file, header, record = reader.lib.sam_read1, reader.file, reader.header, reader.record
    core = reader.core
    reads = 0
    while True:
        batch: list[ChunkStats] = []
        total = mapped = mapq_sum = unplaced = 0
        low: int | None = None
        high: int | None = None
        status = 0
        for _ in range(reads_per_call):
            status = read(file, header, record)
            if status < 0:
                break
            total += 1
            if core.tid < 0:
                unplaced += 1
            if not core.flag & FLAG_UNMAPPED:
                position = core.pos + 1
                mapped += 1
                mapq_sum += core.qual
                low = position if low is None or position < low else low
                high = position if high is None or position > high else high
            reads += 1
            if reads % chunk_size == 0:
                batch.append(ChunkStats(reads // chunk_size, total, mapped, mapq_sum, low, high, unplaced))
                total = mapped = mapq_sum = unplaced = 0
                low = high = None
        if total:
            batch.append(
                ChunkStats((reads - 1) // chunk_size + 1, total, mapped, mapq_sum, low, high, unplaced)
            )
        if batch:
            yield batch
        if status < -1:
            raise reader.read_error(reads)
        if status == -1:
            return

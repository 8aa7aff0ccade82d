"""Statistics for every chunk of `chunk_size` consecutive reads of a BAM, CRAM or SAM, in one sequential pass."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Literal, Protocol

from just_dna_pipelines.bam.bgzf_parallel import ParallelBgzfReader, parallel_reader_available
from just_dna_pipelines.bam.buffer import DecompressedBuffer, DecompressingReader
from just_dna_pipelines.bam.chunk import DEFAULT_CHUNK_SIZE, ChunkStats
from just_dna_pipelines.bam.formats import AlignmentFormat, DetectedFormat
from just_dna_pipelines.bam.header import skip_header
from just_dna_pipelines.bam.hts_records import HtsRecordReader
from just_dna_pipelines.bam.htslib import BgzfReader
from just_dna_pipelines.bam.native import native_library
from just_dna_pipelines.bam.scan_native import native_chunk_batches
from just_dna_pipelines.bam.scan_records import native_record_batches, python_record_batches
from just_dna_pipelines.bam.source import BamLocation, detect
from just_dna_pipelines.errors import BamError

# Called after each buffer with (reads so far, compressed bytes read so far).
ProgressCallback = Callable[[int, int], None]
# "native": the C scanners; "python": the Python fallbacks; "auto": C when it is built.
Scanner = Literal["auto", "native", "python"]


class OpenFile(Protocol):
    """What the pass needs from an open input, whatever reads it."""

    def compressed_offset(self) -> int:
        """Bytes of the file read so far."""
        ...

    def close(self) -> None:
        """Release the file."""
        ...


def open_reader(location: BamLocation, threads: int = 2) -> DecompressingReader:
    """Open a BAM's BGZF stream for one sequential pass.

    Local files are inflated by the parallel reader when it is available; URLs (and machines without
    it) go through htslib, which makes range requests for remote files.
    """
    if location.path is not None:
        if parallel_reader_available():
            return ParallelBgzfReader(location.path, threads)
        return BgzfReader(str(location.path), threads)
    return BgzfReader(location.url, threads)


def scanner_in_use(scanner: Scanner = "auto") -> Literal["native", "python"]:
    """Which scanner `scanner` resolves to on this installation."""
    if scanner == "python" or (scanner == "auto" and native_library() is None):
        return "python"
    if native_library() is None:
        raise BamError("the C chunk scanner is not built (reinstall the package with a C compiler present)")
    return "native"


def _bam_batches(reader: DecompressingReader, chunk_size: int, native: bool) -> Iterator[list[ChunkStats]]:
    """Skip the BAM header, then scan the records a decompressed buffer at a time."""
    data = DecompressedBuffer(reader, ahead=True)
    skip_header(data, reader.url)
    if native:
        yield from native_chunk_batches(data, chunk_size, reader.url)
    else:
        from just_dna_pipelines.bam.scan_python import python_chunk_batches  # imports Polars

        yield from python_chunk_batches(data, chunk_size, reader.url)


def open_batches(
    location: BamLocation, detected: DetectedFormat, chunk_size: int, threads: int, native: bool
) -> tuple[OpenFile, Iterator[list[ChunkStats]]]:
    """The open input and its batches of chunk stats: BAM by our own reader, CRAM and SAM by htslib."""
    # `threads` inflate a BAM; CRAM and SAM are decoded on this thread (hts_records.py says why)
    if detected.format is AlignmentFormat.BAM:
        reader = open_reader(location, threads)
        return reader, _bam_batches(reader, chunk_size, native)
    records = HtsRecordReader(str(location.path) if location.path else location.url, detected)
    scan = native_record_batches if native else python_record_batches
    return records, scan(records, chunk_size)


def iter_chunk_stats(
    location: BamLocation,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    *,
    threads: int = 2,
    on_progress: ProgressCallback | None = None,
    scanner: Scanner = "auto",
    detected: DetectedFormat | None = None,
) -> Iterator[ChunkStats]:
    """Stream the input once and yield each chunk's stats in file order, chunk ids from 1."""
    if chunk_size < 1:
        raise BamError(f"chunk size must be a positive number of reads, not {chunk_size}")
    native = scanner_in_use(scanner) == "native"
    detected = detected or detect(location)
    reads_seen = 0
    open_chunk: ChunkStats | None = None
    reader, batches = open_batches(location, detected, chunk_size, threads, native)
    try:
        for batch in batches:
            reads_seen += sum(chunk.total_reads for chunk in batch)
            if open_chunk is not None:
                if batch[0].chunk_id == open_chunk.chunk_id:
                    batch[0] = open_chunk.merged(batch[0])
                else:
                    yield open_chunk
            yield from batch[:-1]
            open_chunk = batch[-1]
            if on_progress is not None:
                on_progress(reads_seen, reader.compressed_offset())
    finally:
        reader.close()
    if open_chunk is not None:
        yield open_chunk

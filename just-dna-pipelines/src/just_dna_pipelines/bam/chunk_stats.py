"""Statistics for every chunk of `chunk_size` consecutive reads of a BAM, in one sequential pass."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Literal

from just_dna_pipelines.bam.bgzf_parallel import ParallelBgzfReader, parallel_reader_available
from just_dna_pipelines.bam.buffer import DecompressedBuffer, DecompressingReader
from just_dna_pipelines.bam.chunk import DEFAULT_CHUNK_SIZE, ChunkStats
from just_dna_pipelines.bam.header import skip_header
from just_dna_pipelines.bam.htslib import BgzfReader
from just_dna_pipelines.bam.native import native_library
from just_dna_pipelines.bam.scan_native import native_chunk_batches
from just_dna_pipelines.bam.source import BamLocation, file_version
from just_dna_pipelines.errors import BamError

# Called after each buffer with (reads so far, compressed bytes read so far).
ProgressCallback = Callable[[int, int], None]
# "native": the C scanner; "python": the Python + Polars fallback; "auto": C when it is built.
Scanner = Literal["auto", "native", "python"]


def open_reader(location: BamLocation, threads: int = 2) -> DecompressingReader:
    """Open the BAM for one sequential pass, turning a missing file or dead URL into a clear BamError.

    Local files are inflated by the parallel reader when it is available; URLs (and machines without
    it) go through htslib, which makes range requests for remote files.
    """
    if location.path is not None:
        if not location.path.is_file():
            raise BamError(f"no such BAM file: {location.path}")
        if parallel_reader_available():
            return ParallelBgzfReader(location.path, threads)
        return BgzfReader(str(location.path), threads)
    file_version(location)  # a HEAD request: says 404 / unreachable clearly before htslib tries
    return BgzfReader(location.url, threads)


def scanner_in_use(scanner: Scanner = "auto") -> Literal["native", "python"]:
    """Which scanner `scanner` resolves to on this installation."""
    if scanner == "python" or (scanner == "auto" and native_library() is None):
        return "python"
    if native_library() is None:
        raise BamError("the C chunk scanner is not built (reinstall the package with a C compiler present)")
    return "native"


def iter_chunk_stats(
    location: BamLocation,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    *,
    threads: int = 2,
    on_progress: ProgressCallback | None = None,
    scanner: Scanner = "auto",
) -> Iterator[ChunkStats]:
    """Stream the BAM once and yield each chunk's stats in file order, chunk ids from 1."""
    if chunk_size < 1:
        raise BamError(f"chunk size must be a positive number of reads, not {chunk_size}")
    if scanner_in_use(scanner) == "native":
        scan = native_chunk_batches
    else:
        from just_dna_pipelines.bam.scan_python import python_chunk_batches  # imports Polars

        scan = python_chunk_batches
    reads_seen = 0
    open_chunk: ChunkStats | None = None
    reader = open_reader(location, threads)
    try:
        data = DecompressedBuffer(reader)
        skip_header(data, location.url)
        for batch in scan(data, chunk_size, location.url):
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

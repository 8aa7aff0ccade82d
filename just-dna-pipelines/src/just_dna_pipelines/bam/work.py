"""The work units the streamer hands to the processors: batches of chunk stats and the file they belong to."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from just_dna_pipelines.bam.chunk import ChunkStats

# One mapped Dagster step per 10 M reads (3 steps for 30 M reads) ...
DEFAULT_BATCH_READS = 10_000_000
# ... but never more than this many chunks in one step, so tiny chunk sizes keep batches small in memory.
MAX_CHUNKS_PER_BATCH = 10_000


@dataclass(frozen=True)
class BamFileInfo:
    """One streamed BAM (or CRAM, or SAM): where it came from, its version and format, how it was cut into chunks."""

    bam_url: str
    name: str  # the output folder's name: BamLocation.output_name
    version: str
    format: str  # DetectedFormat.describe(): "BAM", "CRAM 3.0", "SAM (BGZF-compressed)", ...
    chunk_size: int
    total_chunks: int
    total_reads: int
    index_reads: int | None


@dataclass(frozen=True)
class ChunkBatch:
    """Consecutive chunks handed to one processor step."""

    batch_id: int
    chunks: tuple[ChunkStats, ...]


def chunks_per_batch(chunk_size: int, batch_reads: int = DEFAULT_BATCH_READS) -> int:
    """How many chunks make one work unit: few Dagster steps, and a bounded batch whatever the chunk size."""
    return max(1, min(batch_reads // max(chunk_size, 1), MAX_CHUNKS_PER_BATCH))


def batched(chunks: Iterable[ChunkStats], per_batch: int) -> Iterator[ChunkBatch]:
    """Group chunk stats into batches of `per_batch`, numbered from 1."""
    current: list[ChunkStats] = []
    batch_id = 0
    for chunk in chunks:
        current.append(chunk)
        if len(current) == per_batch:
            batch_id += 1
            yield ChunkBatch(batch_id, tuple(current))
            current = []
    if current:
        yield ChunkBatch(batch_id + 1, tuple(current))

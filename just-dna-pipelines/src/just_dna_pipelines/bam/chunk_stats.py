"""Statistics for every chunk of `chunk_size` consecutive reads of a BAM, in one sequential pass."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from just_dna_pipelines.bam.htslib import BgzfReader
from just_dna_pipelines.bam.records import iter_record_fields
from just_dna_pipelines.bam.source import BamLocation, file_version
from just_dna_pipelines.errors import BamError

DEFAULT_CHUNK_SIZE = 1000
FLAG_UNMAPPED = 0x4
# Called after each batch with (reads so far, compressed bytes read so far).
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class ChunkStats:
    """Counts for one chunk (or, merged, for a whole file); positions are 1-based, over mapped reads."""

    chunk_id: int
    total_reads: int
    mapped_reads: int
    mapq_sum: int
    position_min: int | None
    position_max: int | None
    unplaced_reads: int

    @property
    def unmapped_reads(self) -> int:
        """Reads with the unmapped flag, placed or not."""
        return self.total_reads - self.mapped_reads

    @property
    def avg_mapping_quality(self) -> float | None:
        """Mean MAPQ over mapped reads (None when the chunk has none)."""
        return self.mapq_sum / self.mapped_reads if self.mapped_reads else None

    def merged(self, other: ChunkStats) -> ChunkStats:
        """These reads and the other's together (keeps this chunk_id)."""
        lows = [p for p in (self.position_min, other.position_min) if p is not None]
        highs = [p for p in (self.position_max, other.position_max) if p is not None]
        return replace(
            self,
            total_reads=self.total_reads + other.total_reads,
            mapped_reads=self.mapped_reads + other.mapped_reads,
            mapq_sum=self.mapq_sum + other.mapq_sum,
            position_min=min(lows) if lows else None,
            position_max=max(highs) if highs else None,
            unplaced_reads=self.unplaced_reads + other.unplaced_reads,
        )

    def stats_json(self) -> dict[str, Any]:
        """The `stats` object of the chunk JSON."""
        return {
            "total_reads": self.total_reads,
            "mapped_reads": self.mapped_reads,
            "unmapped_reads": self.unmapped_reads,
            "avg_mapping_quality": self.avg_mapping_quality,
            "position_range": {"min": self.position_min, "max": self.position_max},
        }


def chunk_json(stats: ChunkStats, total_chunks: int, bam_url: str) -> dict[str, Any]:
    """One chunk's JSON document, in the shape the issue fixes."""
    return {
        "stats": stats.stats_json(),
        "chunk_info": {"chunk_id": stats.chunk_id, "total_chunks": total_chunks, "bam_url": bam_url},
    }


def total_of(chunks: Iterable[ChunkStats]) -> ChunkStats:
    """All chunks merged into one (chunk_id 0); an empty file gives zeros."""
    total = ChunkStats(0, 0, 0, 0, None, None, 0)
    for chunk in chunks:
        total = total.merged(chunk)
    return total


def _aggregate(fields: pl.DataFrame, first_read: int, chunk_size: int) -> list[ChunkStats]:
    """Per-chunk stats of one batch of reads (raw field bytes) whose first read has 0-based ordinal `first_read`."""
    mapped = (pl.col("flag_low") & FLAG_UNMAPPED) == 0
    # little-endian int32 from its bytes, 1-based; only kept for mapped reads, whose pos is >= 0
    position = (
        pl.col("pos0").cast(pl.Int64)
        + pl.col("pos1").cast(pl.Int64) * 0x100
        + pl.col("pos2").cast(pl.Int64) * 0x10000
        + pl.col("pos3").cast(pl.Int64) * 0x1000000
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


def open_reader(location: BamLocation, threads: int = 2) -> BgzfReader:
    """Open the BAM for one sequential pass, turning a missing file or dead URL into a clear BamError."""
    if location.path is not None:
        if not location.path.is_file():
            raise BamError(f"no such BAM file: {location.path}")
        return BgzfReader(str(location.path), threads)
    file_version(location)  # a HEAD request: says 404 / unreachable clearly before htslib tries
    return BgzfReader(location.url, threads)


def iter_chunk_stats(
    location: BamLocation,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    *,
    threads: int = 2,
    on_progress: ProgressCallback | None = None,
) -> Iterator[ChunkStats]:
    """Stream the BAM once and yield each chunk's stats in file order, chunk ids from 1."""
    if chunk_size < 1:
        raise BamError(f"chunk size must be a positive number of reads, not {chunk_size}")
    reads_seen = 0
    open_chunk: ChunkStats | None = None
    with open_reader(location, threads) as reader:
        for fields in iter_record_fields(reader, location.url):
            batch = _aggregate(fields, reads_seen, chunk_size)
            reads_seen += fields.height
            if open_chunk is not None:
                if batch[0].chunk_id == open_chunk.chunk_id:
                    batch[0] = open_chunk.merged(batch[0])
                else:
                    yield open_chunk
            yield from batch[:-1]
            open_chunk = batch[-1]
            if on_progress is not None:
                on_progress(reads_seen, reader.compressed_offset())
    if open_chunk is not None:
        yield open_chunk

"""One chunk's read statistics (and, merged, a whole file's), and the chunk JSON document."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

DEFAULT_CHUNK_SIZE = 1000


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

"""One pass over a BAM, CRAM or SAM: check the input, stream batches of chunk stats, then describe the file."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from just_dna_pipelines.bam.chunk_stats import iter_chunk_stats
from just_dna_pipelines.bam.formats import AlignmentFormat, DetectedFormat
from just_dna_pipelines.bam.index import find_index, index_read_count, index_suffixes
from just_dna_pipelines.bam.native import fast_path_description, native_library
from just_dna_pipelines.bam.source import detect, file_version, locate
from just_dna_pipelines.bam.work import (
    DEFAULT_BATCH_READS,
    BamFileInfo,
    ChunkBatch,
    batched,
    chunks_per_batch,
)
from just_dna_pipelines.errors import BamError

# (reads so far, compressed bytes read, compressed size or None): what a progress bar needs.
ProgressHook = Callable[[int, int, int | None], None]


def no_progress(reads: int, done_bytes: int, total_bytes: int | None) -> None:
    """A progress hook that shows nothing."""


def _size_of(version: str) -> int | None:
    """The byte size recorded in a file version tag, if any."""
    for part in version.split(";"):
        key, _, value = part.partition("=")
        if key == "size" and value.isdigit():
            return int(value)
    return None


def missing_index(url: str, detected: DetectedFormat) -> BamError:
    """The error for an input without the index a streamer requires."""
    suffixes = index_suffixes(detected)
    if not suffixes:
        return BamError(
            f"{url} is {detected.describe()}, which cannot be indexed, and this streamer requires an index"
        )
    return BamError(f"{url} has no index ({' or '.join(suffixes)}), and this streamer requires one")


@dataclass(frozen=True)
class StreamSettings:
    """How a streamer reads: the chunk size, reads per Dagster step, inflate threads, index rules."""

    chunk_size: int
    index_cache_dir: Path
    batch_reads: int = DEFAULT_BATCH_READS
    threads: int = 2
    require_index: bool = False


def default_index_cache_dir() -> Path:
    """Where remote indexes are cached unless a streamer says otherwise."""
    from just_dna_pipelines.settings import get_settings

    return get_settings().cache_dir / "bam_index"


class BamStream:
    """A BAM, CRAM or SAM opened for one sequential pass; `batches()` streams, `file_info()` then sums it up."""

    def __init__(
        self,
        bam_url: str,
        chunk_size: int,
        *,
        index_cache_dir: Path,
        batch_reads: int = DEFAULT_BATCH_READS,
        threads: int = 2,
        require_index: bool = False,
        progress: ProgressHook = no_progress,
    ) -> None:
        if chunk_size < 1:
            raise BamError(f"chunk size must be a positive number of reads, not {chunk_size}")
        self.bam_url = bam_url
        self.chunk_size = chunk_size
        self.location = locate(bam_url)
        self.version = file_version(self.location)  # also turns a missing file or dead URL into a BamError
        self.detected = detect(self.location)  # refuses anything but BAM, CRAM and SAM, naming what it is
        index = find_index(self.location, self.version, index_cache_dir, self.detected)
        if index is None and require_index:
            raise missing_index(bam_url, self.detected)
        self.index_reads = index_read_count(index) if index is not None else None
        self._batch_reads = batch_reads
        self._threads = threads
        self._progress = progress
        self.reads = 0
        self.seconds = 0.0

    @classmethod
    def from_settings(
        cls, bam_url: str, settings: StreamSettings, progress: ProgressHook = no_progress
    ) -> BamStream:
        """Open `bam_url` for streaming with these settings."""
        return cls(
            bam_url,
            settings.chunk_size,
            index_cache_dir=settings.index_cache_dir,
            batch_reads=settings.batch_reads,
            threads=settings.threads,
            require_index=settings.require_index,
            progress=progress,
        )

    def set_progress(self, progress: ProgressHook) -> None:
        """Report progress to `progress` from now on."""
        self._progress = progress

    def batches(self) -> Iterator[ChunkBatch]:
        """Chunk stats in file order, grouped into batches of about `batch_reads` reads."""
        size = _size_of(self.version)
        started = time.monotonic()

        def on_progress(reads: int, done_bytes: int) -> None:
            self.reads = reads
            self._progress(reads, done_bytes, size)

        chunks = iter_chunk_stats(
            self.location,
            self.chunk_size,
            threads=self._threads,
            on_progress=on_progress,
            detected=self.detected,
        )
        yield from batched(chunks, chunks_per_batch(self.chunk_size, self._batch_reads))
        self.seconds = time.monotonic() - started

    def reader_description(self) -> str:
        """What this file is, and how it is decompressed and scanned (the fast path, or why not)."""
        kind = self.detected.describe()
        scanner = "C scanner" if native_library() else "Python scanner"
        remote = " (remote file)" if self.location.is_remote else ""
        if self.detected.format is not AlignmentFormat.BAM:
            return f"{kind}: htslib decoder{remote} + {scanner}"
        if self.location.is_remote:
            return f"{kind}: htslib reader{remote} + {scanner}"
        return f"{kind}: {fast_path_description()}"

    def file_info(self, total_chunks: int) -> BamFileInfo:
        """The streamed file's description; a read count that disagrees with the index is a BamError."""
        if self.index_reads is not None and self.index_reads != self.reads:
            raise BamError(
                f"{self.bam_url}: the index counts {self.index_reads:,} reads but the file holds {self.reads:,}; "
                "the index is stale or the file was cut short"
            )
        return BamFileInfo(
            bam_url=self.bam_url,
            name=self.location.output_name,
            version=self.version,
            format=self.detected.describe(),
            chunk_size=self.chunk_size,
            total_chunks=total_chunks,
            total_reads=self.reads,
            index_reads=self.index_reads,
        )

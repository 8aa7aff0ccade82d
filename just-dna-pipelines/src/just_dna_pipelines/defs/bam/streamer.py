"""StreamingBamChunkStreamer: the op that reads a BAM once and fans its chunk stats out in a few batches."""

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg

from just_dna_pipelines.bam.chunk_stats import DEFAULT_CHUNK_SIZE, ChunkStats, iter_chunk_stats
from just_dna_pipelines.bam.index import find_index, index_read_count
from just_dna_pipelines.bam.source import file_version, locate
from just_dna_pipelines.bam.work import (
    DEFAULT_BATCH_READS,
    BamFileInfo,
    ChunkBatch,
    batched,
    chunks_per_batch,
)
from just_dna_pipelines.errors import BamError
from just_dna_pipelines.settings import get_settings

STREAM_OP_NAME = "stream_bam_chunks_op"
PROGRESS_RESOURCE = "bam_progress"
# (reads so far, compressed bytes read, compressed size or None); the CLI binds a progress bar here.
ProgressHook = Callable[[int, int, int | None], None]


def no_progress(reads: int, done_bytes: int, total_bytes: int | None) -> None:
    """The default progress hook: Dagster's own log lines are enough."""


def _compressed_size(version: str) -> int | None:
    """The byte size recorded in a file version tag, if any."""
    for part in version.split(";"):
        key, _, value = part.partition("=")
        if key == "size" and value.isdigit():
            return int(value)
    return None


class StreamingBamChunkStreamer(dg.Component, dg.Resolvable, dg.Model):
    """Streams a BAM once and yields its chunk statistics as a few large dynamic outputs.

    Every chunk of `chunk_size` consecutive reads gets exact statistics, but Dagster sees only one
    mapped step per `batch_reads` reads, so its per-step overhead stays negligible.
    """

    chunk_size: int = DEFAULT_CHUNK_SIZE
    batch_reads: int = DEFAULT_BATCH_READS
    threads: int = 2
    require_index: bool = False
    index_cache_dir: str | None = None
    op_name: str = STREAM_OP_NAME

    def cache_dir(self) -> Path:
        """Where remote indexes are cached (under the pipelines cache folder unless configured)."""
        return Path(self.index_cache_dir) if self.index_cache_dir else get_settings().cache_dir / "bam_index"

    def build_op(self) -> dg.OpDefinition:
        """The streaming op; its `bam_url` and `chunk_size` inputs come from run config."""
        component = self

        @dg.op(
            name=self.op_name,
            ins={
                "bam_url": dg.In(str, description="Local path, file:// or http(s):// URL of the BAM"),
                "chunk_size": dg.In(int, default_value=self.chunk_size, description="Reads per chunk"),
            },
            out={
                "batches": dg.DynamicOut(ChunkBatch, description="Consecutive chunk stats per work unit"),
                "file_info": dg.Out(BamFileInfo, description="The BAM, its version and chunk count"),
            },
            required_resource_keys={PROGRESS_RESOURCE},
        )
        def stream_bam_chunks(
            context: dg.OpExecutionContext, bam_url: str, chunk_size: int
        ) -> Iterator[dg.DynamicOutput | dg.Output]:
            """Read the BAM once; emit per-chunk stats in batches, then the file summary."""
            info_parts, batches = component.stream(
                bam_url, chunk_size, context.resources.bam_progress, context.log
            )
            total_chunks = 0
            for batch in batches:
                total_chunks += len(batch.chunks)
                yield dg.DynamicOutput(
                    batch, output_name="batches", mapping_key=f"batch_{batch.batch_id:05d}"
                )
            yield dg.Output(info_parts(total_chunks), output_name="file_info")

        return stream_bam_chunks

    def stream(
        self, bam_url: str, chunk_size: int, progress: ProgressHook, log: object = None
    ) -> tuple[Callable[[int], BamFileInfo], Iterator[ChunkBatch]]:
        """Check the input, then a lazy stream of batches and a function that builds the file info after it."""
        location = locate(bam_url)
        version = file_version(location)
        index = find_index(location, version, self.cache_dir())
        if index is None and self.require_index:
            raise BamError(f"{bam_url} has no index (.bai or .csi), and this streamer requires one")
        index_reads = index_read_count(index) if index is not None else None
        size = _compressed_size(version)
        seen = {"reads": 0}
        started = time.monotonic()

        def on_progress(reads: int, done_bytes: int) -> None:
            seen["reads"] = reads
            progress(reads, done_bytes, size)

        chunks: Iterator[ChunkStats] = iter_chunk_stats(
            location, chunk_size, threads=self.threads, on_progress=on_progress
        )
        batches = batched(chunks, chunks_per_batch(chunk_size, self.batch_reads))

        def file_info(total_chunks: int) -> BamFileInfo:
            reads = seen["reads"]
            if index_reads is not None and index_reads != reads:
                raise BamError(
                    f"{bam_url}: the index counts {index_reads:,} reads but the file holds {reads:,}; "
                    "the index is stale or the file was cut short"
                )
            if log is not None:
                elapsed = max(time.monotonic() - started, 1e-9)
                log.info(f"streamed {reads:,} reads in {elapsed:.1f} s ({reads / elapsed:,.0f} reads/s)")  # type: ignore[attr-defined]
            return BamFileInfo(
                bam_url=bam_url,
                name=location.name,
                version=version,
                chunk_size=chunk_size,
                total_chunks=total_chunks,
                total_reads=reads,
                index_reads=index_reads,
            )

        return file_info, batches

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """Ops are not top-level definitions: `build_streaming_bam_job` composes this component's op."""
        return dg.Definitions()

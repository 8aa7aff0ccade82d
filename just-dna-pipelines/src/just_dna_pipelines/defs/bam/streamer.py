"""StreamingBamChunkStreamer: the op that reads a BAM once and fans its chunk stats out in a few batches."""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
from pydantic import AliasChoices, Field

from just_dna_pipelines.bam.chunk import DEFAULT_CHUNK_SIZE
from just_dna_pipelines.bam.stream import (
    BamStream,
    ProgressHook,
    StreamSettings,
    default_index_cache_dir,
    no_progress,
)
from just_dna_pipelines.bam.work import DEFAULT_BATCH_READS, BamFileInfo, ChunkBatch

STREAM_OP_NAME = "stream_bam_chunks_op"
# The resource the op reports progress to; the CLI binds its progress bar here.
PROGRESS_RESOURCE = "bam_progress"
# Streams the command started before the run (`StartedStreams`); the op takes the one it would open.
STARTED_RESOURCE = "bam_started_streams"
__all__ = [
    "PROGRESS_RESOURCE",
    "STARTED_RESOURCE",
    "STREAM_OP_NAME",
    "StreamingBamChunkStreamer",
    "no_progress",
]


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
    # The documented name; `op_name` is still accepted.
    name: str = Field(default=STREAM_OP_NAME, validation_alias=AliasChoices("name", "op_name"))

    def cache_dir(self) -> Path:
        """Where remote indexes are cached (under the pipelines cache folder unless configured)."""
        return Path(self.index_cache_dir) if self.index_cache_dir else default_index_cache_dir()

    def build_op(self) -> dg.OpDefinition:
        """The streaming op; its `bam_url` and `chunk_size` inputs come from run config."""
        component = self

        @dg.op(
            name=self.name,
            ins={
                "bam_url": dg.In(str, description="Local path, file:// or http(s):// URL of the BAM"),
                "chunk_size": dg.In(int, default_value=self.chunk_size, description="Reads per chunk"),
            },
            out={
                "batches": dg.DynamicOut(ChunkBatch, description="Consecutive chunk stats per work unit"),
                "file_info": dg.Out(BamFileInfo, description="The BAM, its version and chunk count"),
            },
            required_resource_keys={PROGRESS_RESOURCE, STARTED_RESOURCE},
        )
        def stream_bam_chunks(
            context: dg.OpExecutionContext, bam_url: str, chunk_size: int
        ) -> Iterator[dg.DynamicOutput | dg.Output]:
            """Read the BAM once; emit per-chunk stats in batches, then the file summary."""
            settings = component.stream_settings(chunk_size)
            started = getattr(context.resources, STARTED_RESOURCE).take(bam_url, settings)
            if started is not None:
                stream, batches = started.stream, started.batches()
            else:
                stream = component.open_stream(bam_url, chunk_size, context.resources.bam_progress)
                batches = stream.batches()
            total_chunks = 0
            for batch in batches:
                total_chunks += len(batch.chunks)
                yield dg.DynamicOutput(
                    batch, output_name="batches", mapping_key=f"batch_{batch.batch_id:05d}"
                )
            info = stream.file_info(total_chunks)
            rate = info.total_reads / max(stream.seconds, 1e-9)
            reader = stream.reader_description()
            context.log.info(
                f"streamed {info.total_reads:,} reads in {stream.seconds:.1f} s ({rate:,.0f} reads/s; {reader})"
            )
            yield dg.Output(
                info,
                output_name="file_info",
                metadata={
                    "total_reads": info.total_reads,
                    "total_chunks": total_chunks,
                    "reads_per_second": rate,
                    "reader": reader,
                    # Streamed by the command from before the run started (bam/stream_started.py).
                    "started_before_run": started is not None,
                },
            )

        return stream_bam_chunks

    def stream_settings(self, chunk_size: int) -> StreamSettings:
        """How this streamer reads, with the run's chunk size."""
        return StreamSettings(
            chunk_size=chunk_size,
            index_cache_dir=self.cache_dir(),
            batch_reads=self.batch_reads,
            threads=self.threads,
            require_index=self.require_index,
        )

    def open_stream(self, bam_url: str, chunk_size: int, progress: ProgressHook = no_progress) -> BamStream:
        """Check the BAM (reachable, indexed if required) and get ready to stream it once."""
        return BamStream.from_settings(bam_url, self.stream_settings(chunk_size), progress)

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """Ops are not top-level definitions: `build_streaming_bam_job` composes this component's op."""
        return dg.Definitions()

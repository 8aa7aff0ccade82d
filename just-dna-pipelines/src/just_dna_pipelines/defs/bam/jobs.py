"""streaming_bam_job: stream once, map the batches to the chunk processor, publish the summary."""

import dagster as dg

from just_dna_pipelines.bam.stream_started import StartedStreams
from just_dna_pipelines.defs.bam.processor import StreamingBamChunkProcessor
from just_dna_pipelines.defs.bam.streamer import (
    PROGRESS_RESOURCE,
    STARTED_RESOURCE,
    StreamingBamChunkStreamer,
    no_progress,
)

STREAMING_BAM_JOB = "streaming_bam_job"


def build_streaming_bam_job(
    streamer: StreamingBamChunkStreamer,
    processor: StreamingBamChunkProcessor,
    name: str = STREAMING_BAM_JOB,
) -> dg.JobDefinition:
    """Compose `stream().map(process)` plus a summary step into one job.

    The in-process executor keeps the few steps in one process: the multiprocess executor would add
    seconds per step for no gain, since the streaming step already inflates on several threads.
    """
    stream_op = streamer.build_op()
    process_op = processor.build_op()
    summary_op = processor.build_summary_op()

    @dg.job(
        name=name,
        executor_def=dg.in_process_executor,
        hooks={processor.build_failure_hook()},
        resource_defs={
            PROGRESS_RESOURCE: dg.ResourceDefinition.hardcoded_resource(no_progress),
            STARTED_RESOURCE: dg.ResourceDefinition.hardcoded_resource(StartedStreams()),
        },
        description="Per-chunk read statistics of one BAM (local path, file:// or http(s):// URL) as JSON files.",
    )
    def streaming_bam_job() -> None:
        batches, file_info = stream_op()
        written = batches.map(lambda batch: process_op(batch, file_info))
        summary_op(file_info, written.collect())

    return streaming_bam_job

"""Dagster definitions for streaming BAM statistics: the components, the job they compose, the sensor."""

import dagster as dg

from just_dna_pipelines.defs.bam.jobs import STREAMING_BAM_JOB, build_streaming_bam_job
from just_dna_pipelines.defs.bam.processor import StreamingBamChunkProcessor
from just_dna_pipelines.defs.bam.sensors import StreamingBamFileSensor
from just_dna_pipelines.defs.bam.streamer import StreamingBamChunkStreamer
from just_dna_pipelines.settings import get_settings

__all__ = [
    "STREAMING_BAM_JOB",
    "StreamingBamChunkProcessor",
    "StreamingBamChunkStreamer",
    "StreamingBamFileSensor",
    "bam_definitions",
    "build_streaming_bam_job",
]


def bam_definitions() -> dg.Definitions:
    """streaming_bam_job (writing under the output folder's bam/) and a sensor on the input folder's bam/."""
    job = build_streaming_bam_job(StreamingBamChunkStreamer(), StreamingBamChunkProcessor())
    sensor = StreamingBamFileSensor(bam_directory=str(get_settings().input_dir / "bam"), job_name=job.name)
    return dg.Definitions(jobs=[job], sensors=[sensor.build_sensor()])

"""StreamingBamFileSensor: launch streaming_bam_job once per new or changed BAM (by URL or folder glob)."""

import json
from pathlib import Path

import dagster as dg
from pydantic import AliasChoices, Field

from just_dna_pipelines.bam.source import file_version, locate
from just_dna_pipelines.defs.bam.jobs import STREAMING_BAM_JOB, build_streaming_bam_job
from just_dna_pipelines.defs.bam.processor import StreamingBamChunkProcessor
from just_dna_pipelines.defs.bam.streamer import STREAM_OP_NAME, StreamingBamChunkStreamer
from just_dna_pipelines.errors import BamError


def stream_run_config(bam_url: str, chunk_size: int | None, op_name: str = STREAM_OP_NAME) -> dict:
    """The run config that streams one BAM (without a chunk size, the streamer's own applies)."""
    inputs: dict[str, str | int] = {"bam_url": bam_url}
    if chunk_size is not None:
        inputs["chunk_size"] = chunk_size
    return {"ops": {op_name: {"inputs": inputs}}}


class StreamingBamFileSensor(dg.Component, dg.Resolvable, dg.Model):
    """Watches BAM URLs and/or a folder glob; one run per file version (URL + ETag/size/mtime).

    The cursor keeps the last version launched for each URL, and run keys carry the version, so a
    tick re-launches only files that are new or changed. A tick costs a stat or HEAD request per file.

    Alone, it launches the job named `job_name` (the code location's `streaming_bam_job` by default).
    With a `streamer` and/or `processor` block (each takes its component's attributes), one declaration is
    the whole pipeline: the sensor brings its own job, `<name>_job` unless `job_name` is given, composed of
    those two (the default one where a block is left out).
    """

    urls: list[str] = []  # noqa: RUF012 - pydantic copies defaults
    # The documented names; the earlier ones (directory, glob, sensor_name) are still accepted.
    bam_directory: str | None = Field(
        default=None, validation_alias=AliasChoices("bam_directory", "directory")
    )
    file_pattern: str = Field(default="*.bam", validation_alias=AliasChoices("file_pattern", "glob"))
    job_name: str = STREAMING_BAM_JOB
    stream_op_name: str = STREAM_OP_NAME
    # Reads per chunk in the runs it requests; unset, the streamer's `chunk_size` applies.
    chunk_size: int | None = None
    streamer: StreamingBamChunkStreamer | None = None
    processor: StreamingBamChunkProcessor | None = None
    name: str = Field(
        default="streaming_bam_file_sensor", validation_alias=AliasChoices("name", "sensor_name")
    )
    minimum_interval_seconds: int = 30
    running_by_default: bool = False

    def candidate_urls(self) -> list[str]:
        """The configured URLs, then the folder's matching files in name order."""
        found = list(self.urls)
        if self.bam_directory:
            folder = Path(self.bam_directory).expanduser()
            if folder.is_dir():
                found += [str(path) for path in sorted(folder.glob(self.file_pattern)) if path.is_file()]
        return found

    def brings_its_own_job(self) -> bool:
        """Whether a streamer or processor block was given, so this sensor composes its own job."""
        return self.streamer is not None or self.processor is not None

    def target_job_name(self) -> str:
        """The job the sensor launches."""
        if self.brings_its_own_job() and "job_name" not in self.model_fields_set:
            return f"{self.name}_job"
        return self.job_name

    def own_streamer(self) -> StreamingBamChunkStreamer:
        """The streamer of this sensor's own job; its op is named after the sensor unless the block names it
        (op names are unique in a code location, so two pipelines' defaults must differ)."""
        streamer = self.streamer or StreamingBamChunkStreamer()
        if "name" in streamer.model_fields_set:
            return streamer
        return streamer.model_copy(update={"name": f"{self.name}_stream_op"})

    def own_processor(self) -> StreamingBamChunkProcessor:
        """The processor of this sensor's own job, its two ops named after the sensor unless the block names them."""
        processor = self.processor or StreamingBamChunkProcessor()
        names = {
            "name": f"{self.name}_process_op",
            "summary_op_name": f"{self.name}_summary_op",
        }
        return processor.model_copy(
            update={key: value for key, value in names.items() if key not in processor.model_fields_set}
        )

    def target_stream_op_name(self) -> str:
        """The streaming op's name in the job it launches (its run config is keyed by it)."""
        return self.own_streamer().name if self.brings_its_own_job() else self.stream_op_name

    def build_job(self) -> dg.JobDefinition:
        """The job of this sensor's own streamer and processor (defaults where a block was left out)."""
        return build_streaming_bam_job(self.own_streamer(), self.own_processor(), name=self.target_job_name())

    def build_sensor(self) -> dg.SensorDefinition:
        """The sensor definition for this configuration."""
        component = self
        op_name = self.target_stream_op_name()

        @dg.sensor(
            name=self.name,
            job_name=self.target_job_name(),
            minimum_interval_seconds=self.minimum_interval_seconds,
            default_status=dg.DefaultSensorStatus.RUNNING
            if self.running_by_default
            else dg.DefaultSensorStatus.STOPPED,
        )
        def streaming_bam_file_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
            """Request a run for each BAM whose version differs from the cursor's."""
            seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
            requests = []
            for url in component.candidate_urls():
                try:
                    version = file_version(locate(url))
                except BamError as exc:
                    context.log.warning(f"skipping {url}: {exc}")
                    continue
                if seen.get(url) == version:
                    continue
                seen[url] = version
                requests.append(
                    dg.RunRequest(
                        run_key=f"{url}|{version}",
                        run_config=stream_run_config(url, component.chunk_size, op_name),
                        tags={"bam_url": url[:255], "bam_version": version[:255]},
                    )
                )
            if not requests:
                return dg.SkipReason("no new or changed BAM files")
            return dg.SensorResult(run_requests=requests, cursor=json.dumps(seen, sort_keys=True))

        return streaming_bam_file_sensor

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """The sensor, with its own job when it has streamer/processor blocks (else the job it names must be
        defined in the same code location)."""
        jobs = [self.build_job()] if self.brings_its_own_job() else []
        return dg.Definitions(jobs=jobs, sensors=[self.build_sensor()])

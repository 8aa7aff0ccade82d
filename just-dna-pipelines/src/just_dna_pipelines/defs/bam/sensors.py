"""StreamingBamFileSensor: launch streaming_bam_job once per new or changed BAM (by URL or folder glob)."""

import json
from pathlib import Path

import dagster as dg
from pydantic import AliasChoices, Field

from just_dna_pipelines.bam.chunk import DEFAULT_CHUNK_SIZE
from just_dna_pipelines.bam.source import file_version, locate
from just_dna_pipelines.defs.bam.jobs import STREAMING_BAM_JOB
from just_dna_pipelines.defs.bam.streamer import STREAM_OP_NAME
from just_dna_pipelines.errors import BamError


def stream_run_config(bam_url: str, chunk_size: int, op_name: str = STREAM_OP_NAME) -> dict:
    """The run config that streams one BAM."""
    return {"ops": {op_name: {"inputs": {"bam_url": bam_url, "chunk_size": chunk_size}}}}


class StreamingBamFileSensor(dg.Component, dg.Resolvable, dg.Model):
    """Watches BAM URLs and/or a folder glob; one run per file version (URL + ETag/size/mtime).

    The cursor keeps the last version launched for each URL, and run keys carry the version, so a
    tick re-launches only files that are new or changed. A tick costs a stat or HEAD request per file.
    """

    urls: list[str] = []  # noqa: RUF012 - pydantic copies defaults
    # The documented names; the earlier ones (directory, glob, sensor_name) are still accepted.
    bam_directory: str | None = Field(
        default=None, validation_alias=AliasChoices("bam_directory", "directory")
    )
    file_pattern: str = Field(default="*.bam", validation_alias=AliasChoices("file_pattern", "glob"))
    job_name: str = STREAMING_BAM_JOB
    stream_op_name: str = STREAM_OP_NAME
    chunk_size: int = DEFAULT_CHUNK_SIZE
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

    def build_sensor(self) -> dg.SensorDefinition:
        """The sensor definition for this configuration."""
        component = self

        @dg.sensor(
            name=self.name,
            job_name=self.job_name,
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
                        run_config=stream_run_config(url, component.chunk_size, component.stream_op_name),
                        tags={"bam_url": url[:255], "bam_version": version[:255]},
                    )
                )
            if not requests:
                return dg.SkipReason("no new or changed BAM files")
            return dg.SensorResult(run_requests=requests, cursor=json.dumps(seen, sort_keys=True))

        return streaming_bam_file_sensor

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """The sensor; the job it names must be defined in the same code location."""
        return dg.Definitions(sensors=[self.build_sensor()])

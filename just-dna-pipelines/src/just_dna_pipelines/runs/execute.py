"""Execute a sample's job in this process on the persistent instance (so the run shows in the Dagster UI)."""

from __future__ import annotations

import dagster as dg

from just_dna_pipelines.runs import tags
from just_dna_pipelines.runs.config import RunRequest
from just_dna_pipelines.runs.instance import get_instance
from just_dna_pipelines.runs.run_memory import partitions_remembered

PARTITIONS = "user_vcf_files"


def ensure_partition(instance: dg.DagsterInstance, partition_key: str) -> None:
    """Add the sample's dynamic partition if it is not there yet."""
    if not instance.has_dynamic_partition(PARTITIONS, partition_key):
        instance.add_dynamic_partitions(PARTITIONS, [partition_key])


def selected_assets(job: dg.JobDefinition, request: RunRequest) -> list[dg.AssetKey] | None:
    """The assets of `job` this request runs (None: the whole job); per-module assets exist only for the
    modules the graph knows."""
    names = request.asset_selection()
    if names is None:
        return None
    in_job = set(job.asset_layer.executable_asset_keys)
    return [key for key in map(dg.AssetKey.from_user_string, names) if key in in_job]


def code_location() -> dg.Definitions:
    """Every definition of the project (imported on first use: it loads the Ensembl, BAM and report code)."""
    from just_dna_pipelines.definitions import defs

    return defs


def execute_run(
    request: RunRequest, run_id: str | None = None, definitions: dg.Definitions | None = None
) -> dg.ExecuteInProcessResult:
    """Add the partition if needed and run the job in-process now (the CLI's way); failures are recorded, not raised.

    The run names this process, so a run whose process is killed is later shown as failed, not running.
    """
    defs = definitions if definitions is not None else code_location()
    instance = get_instance()
    ensure_partition(instance, request.partition_key)
    job = defs.resolve_job_def(request.job_name)
    selection = selected_assets(job, request)
    with partitions_remembered(instance):
        return job.execute_in_process(
            run_config=request.run_config(),
            asset_selection=selection,
            instance=instance,
            partition_key=request.partition_key,
            run_id=run_id,
            raise_on_error=False,
            tags={
                tags.LAUNCHER: "cli",
                tags.MODULES: ",".join(request.module_names()),
                **tags.process_tags("run"),
            },
        )


def execute_existing_run(instance: dg.DagsterInstance, run: dg.DagsterRun) -> bool:
    """Execute a run created ahead (queued, then claimed) in this process; True when it succeeded.

    Dagster has no public call that executes an existing run in-process; `execute_run` is what its own
    run workers call, here with the same in-process job that `execute_in_process` builds.
    """
    from dagster._core.definitions.job_base import InMemoryJob
    from dagster._core.execution.api import execute_run as execute_existing

    from just_dna_pipelines.definitions import defs

    job = defs.resolve_job_def(run.job_name)
    if run.asset_selection:  # a run of some of the job's assets (e.g. with or without the Ensembl ones)
        job = job.get_subset(asset_selection=set(run.asset_selection))
    ephemeral = job.as_ephemeral_job(resource_defs={}, input_values={})
    with partitions_remembered(instance):
        return execute_existing(InMemoryJob(ephemeral), run, instance).success


def forget_partition_if_unused(partition_key: str) -> None:
    """Drop a sample no run ever completed (its partition and outputs), so rejected input leaves nothing behind.

    The failed runs themselves stay visible in the Dagster UI.
    """
    import shutil

    from just_dna_pipelines.keys import parse_partition_key
    from just_dna_pipelines.runs.sample_claim import other_runs_of
    from just_dna_pipelines.settings import get_settings

    instance = get_instance()
    runs = instance.get_runs(filters=dg.RunsFilter(tags={tags.PARTITION: partition_key}))
    if any(run.status == dg.DagsterRunStatus.SUCCESS for run in runs) or other_runs_of(
        instance, partition_key
    ):
        return  # kept: a finished run's results, or another run's (a web launch made after this one started)
    shutil.rmtree(get_settings().sample_output_dir(*parse_partition_key(partition_key)), ignore_errors=True)
    if instance.has_dynamic_partition(PARTITIONS, partition_key):
        instance.delete_dynamic_partition(PARTITIONS, partition_key)

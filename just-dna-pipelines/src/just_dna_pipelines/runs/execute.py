"""Execute a sample's job in this process on the persistent instance (so the run shows in the Dagster UI)."""

from __future__ import annotations

import argparse
import json
import sys

import dagster as dg

from just_dna_pipelines.runs.config import RunRequest
from just_dna_pipelines.runs.instance import get_instance


def execute_run(
    request: RunRequest, run_id: str | None = None, definitions: dg.Definitions | None = None
) -> dg.ExecuteInProcessResult:
    """Add the partition if needed and run the job in-process; failures are recorded, not raised."""
    from just_dna_pipelines.definitions import defs as loaded

    defs = definitions or loaded
    instance = get_instance()
    partitions = "user_vcf_files"
    if not instance.has_dynamic_partition(partitions, request.partition_key):
        instance.add_dynamic_partitions(partitions, [request.partition_key])
    job = defs.resolve_job_def(request.job_name)
    names = request.asset_selection()
    selection = None
    if names is not None:  # per-module assets exist only for the modules the graph knows
        in_job = set(job.asset_layer.executable_asset_keys)
        selection = [key for key in map(dg.AssetKey.from_user_string, names) if key in in_job]
    return job.execute_in_process(
        run_config=request.run_config(),
        asset_selection=selection,
        instance=instance,
        partition_key=request.partition_key,
        run_id=run_id,
        raise_on_error=False,
        tags={"just-dna/modules": ",".join(request.module_names())},
    )


def main() -> int:
    """Child-process entry point used by the service to run in the background."""
    parser = argparse.ArgumentParser(prog="just_dna_pipelines.runs.execute")
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--request", required=True, help="RunRequest as JSON")
    args = parser.parse_args()
    request = RunRequest(**json.loads(args.request))
    result = execute_run(request, run_id=args.run_id)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())


def forget_partition_if_unused(partition_key: str) -> None:
    """Drop a sample no run ever completed (its partition and outputs), so rejected input leaves nothing behind.

    The failed runs themselves stay visible in the Dagster UI.
    """
    import shutil

    import dagster as dg

    from just_dna_pipelines.keys import parse_partition_key
    from just_dna_pipelines.settings import get_settings

    instance = get_instance()
    runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/partition": partition_key}))
    if any(run.status == dg.DagsterRunStatus.SUCCESS for run in runs):
        return
    shutil.rmtree(get_settings().sample_output_dir(*parse_partition_key(partition_key)), ignore_errors=True)
    if instance.has_dynamic_partition("user_vcf_files", partition_key):
        instance.delete_dynamic_partition("user_vcf_files", partition_key)

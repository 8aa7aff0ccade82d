"""The jobs' executor, as Dagster's own run workers use it (the queue's launcher, the Dagster UI, automation):
a sample's run that does not succeed leaves the sample's outputs as they were."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from just_dna_pipelines.defs.whole_runs import RERUN_WHOLE
from just_dna_pipelines.modules.demo import ensure_demo_sample
from just_dna_pipelines.runs.config import RunRequest
from just_dna_pipelines.runs.execute import ensure_partition
from just_dna_pipelines.runs.instance import get_instance
from just_dna_pipelines.runs.queue import SAMPLE_BUSY
from just_dna_pipelines.settings import REPO_ROOT
from tests.sample_folders import folder_bytes, staging_left

JOB = "annotate_and_report_job"


def annotate_and_report_job() -> dg.JobDefinition:
    """The job as the code location defines it (with its executor), for dg.reconstructable."""
    from just_dna_pipelines.definitions import defs

    return defs.resolve_job_def(JOB)


def execute_job_of(
    partition_key: str, vcf: Path, modules: list[str], *, modules_source: str = "demo"
) -> dg.DagsterRun:
    """Execute the sample's job through the job's own executor (dg.execute_job), in-process config."""
    instance = get_instance()
    ensure_partition(instance, partition_key)
    request = RunRequest(
        partition_key=partition_key, vcf_path=str(vcf), modules=modules, modules_source=modules_source
    )
    run_config = {**request.run_config(), "execution": {"config": {"in_process": {}}}}
    with dg.execute_job(
        dg.reconstructable(annotate_and_report_job),
        instance=instance,
        run_config=run_config,
        tags={"dagster/partition": partition_key},
    ) as result:
        run = instance.get_run_by_id(result.run_id)
    assert run is not None
    return run


def test_a_run_failing_part_way_leaves_the_previous_outputs_and_a_first_run_none(
    pipeline_env, tmp_path: Path, long_vcf: Path
) -> None:
    demo = ensure_demo_sample(tmp_path / "demo")
    folder = pipeline_env.output_dir / "users" / "erin" / "sample"
    first = execute_job_of("erin/sample", demo, ["longevitymap"])
    assert first.status == dg.DagsterRunStatus.SUCCESS
    before = folder_bytes(folder)
    assert "reports/longevity_report.html" in before and "source.json" in before

    # Another genome with a module the source lacks: its source and normalized table are made, then the
    # modules step fails. Before, they stayed beside the previous genome's module results and report.
    failed = execute_job_of("erin/sample", long_vcf, ["no_such_module"])
    assert failed.status == dg.DagsterRunStatus.FAILURE
    steps = {
        e.step_key for e in get_instance().all_logs(failed.run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)
    }
    assert "user_vcf_source" in steps  # it did publish something before failing
    assert folder_bytes(folder) == before
    assert staging_left(pipeline_env.output_dir) == []

    # A sample's first run that fails leaves no folder at all.
    never = execute_job_of("erin/other", demo, ["no_such_module"])
    assert never.status == dg.DagsterRunStatus.FAILURE
    assert not (pipeline_env.output_dir / "users" / "erin" / "other").exists()

    # A run that succeeds replaces the outputs.
    again = execute_job_of("erin/sample", long_vcf, ["longevitymap"])
    assert again.status == dg.DagsterRunStatus.SUCCESS
    assert folder_bytes(folder)["source.json"] != before["source.json"]
    assert staging_left(pipeline_env.output_dir) == []


def test_a_second_run_of_a_sample_under_way_is_refused_not_mixed(
    pipeline_env, tmp_path: Path, long_vcf: Path, wait_until
) -> None:
    """Two runs of one sample through the executor at once (two launches from the Dagster UI, or the automation
    beside one): each kept the folder as it was when it started, so the one that failed last put back its copy over
    the other's. Before: a second run that succeeded while a first was under way had its results removed for good
    when the first failed (the folder was the one before both, the second run still shown succeeded)."""
    demo = ensure_demo_sample(tmp_path / "demo")
    folder = pipeline_env.output_dir / "users" / "erin" / "sample"
    assert execute_job_of("erin/sample", demo, ["longevitymap"]).status == dg.DagsterRunStatus.SUCCESS
    before = folder_bytes(folder)
    first = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from tests.defs.test_whole_runs import execute_job_of; "
            "execute_job_of('erin/sample', Path(sys.argv[1]), ['no_such_module'])",
            str(long_vcf),
        ],
        cwd=REPO_ROOT,
    )
    wait_until(
        lambda: folder_bytes(folder).get("source.json") != before["source.json"], "the first run to publish"
    )
    second = execute_job_of("erin/sample", demo, ["longevitymap", "vo2max"])
    assert first.wait(timeout=300) == 0
    assert second.status == dg.DagsterRunStatus.FAILURE
    assert SAMPLE_BUSY in str(get_instance().all_logs(second.run_id, of_type=dg.DagsterEventType.RUN_FAILURE))
    assert folder_bytes(folder) == before  # the first run failed: put back whole
    assert staging_left(pipeline_env.output_dir) == []


def _modules_without(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A copy of the demo modules (a local module source), with module `name` moved aside: (source, aside)."""
    import shutil

    from just_dna_pipelines.modules.demo import ensure_demo_modules

    source = tmp_path / "modules"
    shutil.copytree(ensure_demo_modules(), source)
    aside = tmp_path / "aside"
    aside.mkdir()
    (source / name).rename(aside / name)
    return source, aside / name


def _re_execute_from_failure(failed: dg.DagsterRun) -> dg.DagsterRun:
    """`failed` re-executed from its failed steps (dg.execute_job, with the parent's partition tag as the Dagster UI's
    re-execution carries it)."""
    instance = get_instance()
    with dg.execute_job(
        dg.reconstructable(annotate_and_report_job),
        instance=instance,
        reexecution_options=dg.ReexecutionOptions.from_failure(failed.run_id, instance),
        tags={"dagster/partition": "erin/sample"},
    ) as result:
        run = instance.get_run_by_id(result.run_id)
    assert run is not None and run.step_keys_to_execute is not None
    return run


def _re_execute_from_asset_failure(failed: dg.DagsterRun) -> dg.DagsterRun:
    """`failed` re-executed from its failed assets, as the Dagster UI's "from asset failure" creates the run (all of
    its steps, for a selection of the assets only) and a run worker executes it."""
    from dagster._core.execution.api import execute_run
    from dagster._core.execution.plan.resume_retry import ReexecutionStrategy
    from dagster._core.test_utils import in_process_test_workspace
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    instance = get_instance()
    origin = LoadableTargetOrigin(module_name="just_dna_pipelines.definitions", attribute="defs")
    with in_process_test_workspace(instance, origin) as workspace:
        location = workspace.get_code_location(workspace.code_location_names[0])
        repository = next(iter(location.get_repositories().values()))
        run = instance.create_reexecuted_run(
            request_context=workspace,
            parent_run=failed,
            code_location=location,
            remote_job=repository.get_full_job(failed.job_name),
            strategy=ReexecutionStrategy.FROM_ASSET_FAILURE,
            use_parent_run_tags=True,
        )
    assert run.step_keys_to_execute is None and run.asset_selection
    job = dg.reconstructable(annotate_and_report_job).get_subset(asset_selection=set(run.asset_selection))
    execute_run(job, run, instance)
    ended = instance.get_run_by_id(run.run_id)
    assert ended is not None
    return ended


@pytest.mark.parametrize("re_execute", [_re_execute_from_failure, _re_execute_from_asset_failure])
def test_a_failed_runs_re_execution_from_failure_is_refused_not_run_on_the_outputs_put_back(
    pipeline_env, tmp_path: Path, re_execute
) -> None:
    """A run that fails has the sample's previous outputs put back. Re-executed from its failure (the Dagster UI's
    "from failure" or "from asset failure", or a run retry), its remaining steps read their inputs from the sample's
    folder: the earlier run's tables. Before: a re-run with another genome whose modules step failed, re-executed
    from failure, ended "success" with module results and a report of the earlier genome under the new genome's
    run. Now it is refused with a clear reason (re-execute all the steps), and the folder stays as it was."""
    source, moved = _modules_without(tmp_path, "vo2max")
    demo = ensure_demo_sample(tmp_path / "demo")
    other = tmp_path / "other.vcf"
    other.write_text(demo.read_text().replace("0/1", "1/1"))
    folder = pipeline_env.output_dir / "users" / "erin" / "sample"

    def run_of(vcf: Path, modules: list[str]) -> dg.DagsterRun:
        return execute_job_of("erin/sample", vcf, modules, modules_source=str(source))

    assert run_of(demo, ["longevitymap"]).status == dg.DagsterRunStatus.SUCCESS
    before = folder_bytes(folder)
    failed = run_of(other, ["longevitymap", "vo2max"])  # vo2max is not in the source: the modules step fails
    assert failed.status == dg.DagsterRunStatus.FAILURE
    assert folder_bytes(folder) == before
    moved.rename(source / "vo2max")  # the module is back

    again = re_execute(failed)
    assert again.parent_run_id == failed.run_id
    assert again.status == dg.DagsterRunStatus.FAILURE
    logs = get_instance().all_logs(again.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert RERUN_WHOLE in str(logs)
    assert folder_bytes(folder) == before
    assert staging_left(pipeline_env.output_dir) == []

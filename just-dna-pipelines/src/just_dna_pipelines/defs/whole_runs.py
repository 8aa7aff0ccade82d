"""The executor of the project's jobs: a sample's run that does not succeed leaves the sample's outputs as they were.

The command line and the web app's local run mode execute a run in their own process and keep the sample's
previous outputs around it themselves (runs/previous_outputs.py). Runs executed by a Dagster run worker (the
queue run mode's launcher, a materialization from the Dagster UI, the automation's re-runs) go through the job's
executor instead: this one is Dagster's default (in-process or multiprocess, the same config), wrapped so that
it keeps the partition's sample folder before the first step and puts it back unless every step succeeded. It
runs in the run worker, so a canceled run is put back before its run records its end; a run worker killed
outright cannot put anything back (whoever of ours first sees it ended does: runs/liveness.py). It holds the
sample's claim (runs/sample_claim.py) while the run goes on: a second run of the sample (another launch from the
Dagster UI, the automation, a command) is refused at once, where both kept the folder as it was when they
started and the one ending last put its copy back over the other's results.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import dagster as dg
from dagster._core.executor.base import Executor

from just_dna_pipelines.errors import PipelineError
from just_dna_pipelines.runs import tags

# A re-execution of some steps or assets of a run that did not succeed (the Dagster UI's "from failure", "from
# asset failure" or "selected steps", a run retry) would read its other steps' outputs from the sample's folder,
# which holds the outputs of the run before it again (put back): it would annotate one genome and describe another.
RERUN_WHOLE = (
    "the run this re-executes did not succeed, so its outputs were taken back and the sample holds the earlier "
    "run's; re-execute all of its steps"
)

if TYPE_CHECKING:
    from dagster._core.execution.context.system import PlanOrchestrationContext
    from dagster._core.execution.plan.plan import ExecutionPlan
    from dagster._core.execution.retries import RetryMode
    from dagster._core.execution.step_dependency_config import StepDependencyConfig


class WholeRunExecutor(Executor):
    """Dagster's executor for the run's config, keeping the sample's outputs whole around its steps."""

    def __init__(self, inner: Executor) -> None:
        self._inner = inner

    @property
    def retries(self) -> RetryMode:
        return self._inner.retries

    @property
    def step_dependency_config(self) -> StepDependencyConfig:
        return self._inner.step_dependency_config

    def execute(
        self, plan_context: PlanOrchestrationContext, execution_plan: ExecutionPlan
    ) -> Iterator[dg.DagsterEvent]:
        from just_dna_pipelines.runs.previous_outputs import outputs_kept_whole
        from just_dna_pipelines.runs.sample_claim import sample_held

        run = plan_context.dagster_run
        partition_key = tags.sample_partition(run.tags)
        if partition_key is None:
            yield from self._inner.execute(plan_context, execution_plan)
            return
        if _steps_of_an_unsuccessful_run(plan_context.instance, run):
            raise PipelineError(RERUN_WHOLE)
        # One run of a sample at a time (two at once each kept the folder as it was: the one ending last put its copy
        # back over the other's results). Put back also when the run is interrupted or its events stop being read.
        with (
            sample_held(plan_context.instance, partition_key),
            outputs_kept_whole(partition_key, run.run_id) as outcome,
        ):
            failed = False
            for event in self._inner.execute(plan_context, execution_plan):
                failed = failed or event.is_step_failure
                yield event
            outcome.succeeded = not failed


def _steps_of_an_unsuccessful_run(instance: dg.DagsterInstance, run: dg.DagsterRun) -> bool:
    """Whether `run` re-executes only part of a run that did not succeed (whose outputs were put back): some of its
    steps ("from failure") or some of its assets ("from asset failure": every step, of fewer assets)."""
    if run.parent_run_id is None:
        return False
    parent = instance.get_run_by_id(run.parent_run_id)
    if parent is not None and parent.status == dg.DagsterRunStatus.SUCCESS:
        return False
    if run.step_keys_to_execute is not None:
        return True
    return parent is None or run.asset_selection != parent.asset_selection


@dg.executor(
    name="whole_run_executor",
    config_schema=dg.multi_or_in_process_executor.config_schema.as_field(),
    requirements=dg.multi_or_in_process_executor.get_requirements,
)
def whole_run_executor(init_context: dg.InitExecutorContext) -> Executor:
    """Dagster's default executor (`in_process` or `multiprocess` config) whose sample runs count only as a whole."""
    create = dg.multi_or_in_process_executor.executor_creation_fn
    assert create is not None  # set for every executor made with @dg.executor
    inner = create(init_context)
    return WholeRunExecutor(inner)

"""The run queue, kept in Dagster's run storage: queued runs are Dagster runs that wait for a free slot.

A run the web app launches is created at once as a Dagster run with status QUEUED, so it shows as
queued in the Dagster UI and survives restarts. The run worker then claims the oldest queued runs
while fewer than the configured number of runs are in progress (STARTING), and executes each one
in-process in a child it forks. Dagster's daemon would launch QUEUED runs itself; the project's
dagster.yaml stops it with a tag concurrency limit of 0 on the worker's tag. Under a dagster.yaml
without that limit, queued runs are created NOT_STARTED instead (shown as "Not started"), so the daemon
never sees them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg

from just_dna_pipelines.io.file_lock import file_lock
from just_dna_pipelines.runs import tags
from just_dna_pipelines.runs.config import RunRequest
from just_dna_pipelines.runs.dagster_config import (
    CODE_LOCATION,
    DEFINITIONS_MODULE,
    QUEUE_LAUNCHER,
    WORKER_LAUNCHER,
)
from just_dna_pipelines.settings import REPO_ROOT

LAUNCHERS = [WORKER_LAUNCHER, "cli", QUEUE_LAUNCHER]  # runs of ours that take a slot while in progress
QUEUED_LAUNCHERS = [WORKER_LAUNCHER, QUEUE_LAUNCHER]  # runs of ours that wait in a queue
WAITING = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED]
IN_PROGRESS = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
RUNS_LOCK = ".runs.lock"
SAMPLE_BUSY = "this sample already has a run queued or running; wait for it or cancel it"
SAMPLE_GONE = "this sample's genome is gone (the sample was deleted)"


def runs_lock(instance: dg.DagsterInstance) -> Path:
    """The lock file that serializes changes of run state (claim, cancel, end) across processes."""
    return Path(instance.root_directory) / RUNS_LOCK


def daemon_leaves_worker_runs_alone(instance: dg.DagsterInstance) -> bool:
    """Whether the instance's run coordinator will never launch a QUEUED run tagged for the worker."""
    from dagster._core.run_coordinator import QueuedRunCoordinator

    coordinator = instance.run_coordinator
    if not isinstance(coordinator, QueuedRunCoordinator):
        return True  # nothing dequeues runs then
    limits = coordinator.get_run_queue_config().tag_concurrency_limits or []
    return any(
        limit.get("key") == tags.LAUNCHER and limit.get("value") == WORKER_LAUNCHER and limit["limit"] == 0
        for limit in limits
    )


def _job_origin(job_name: str) -> object:
    """Where the job comes from, as the Dagster UI's code location names it (so the run links to its job)."""
    from dagster._core.remote_origin import RemoteJobOrigin, RemoteRepositoryOrigin
    from dagster._core.workspace.load import location_origin_from_module_name

    location = location_origin_from_module_name(
        DEFINITIONS_MODULE, None, str(REPO_ROOT), location_name=CODE_LOCATION, executable_path=sys.executable
    )
    return RemoteJobOrigin(RemoteRepositoryOrigin(location, "__repository__"), job_name)


def create_queued_run(instance: dg.DagsterInstance, request: RunRequest, run_id: str) -> dg.DagsterRun:
    """Create the Dagster run of a request, waiting in the queue; its partition must exist."""
    from dagster._core.definitions.job_base import InMemoryJob
    from dagster._core.execution.api import create_execution_plan
    from dagster._core.execution.execute_in_process import merge_run_tags

    from just_dna_pipelines.definitions import defs
    from just_dna_pipelines.runs.execute import selected_assets

    full_job = defs.resolve_job_def(request.job_name)
    selection = selected_assets(full_job, request)
    job = full_job.get_subset(asset_selection=set(selection)) if selection is not None else full_job
    ephemeral = job.as_ephemeral_job(resource_defs={}, input_values={})  # what execute_in_process runs
    run_config = request.run_config()
    run_tags = merge_run_tags(
        job_def=job,
        partition_key=request.partition_key,
        tags={tags.LAUNCHER: WORKER_LAUNCHER, tags.MODULES: ",".join(request.module_names())},
        asset_selection=selection,
        instance=instance,
        run_config=run_config,
    )
    plan = create_execution_plan(
        InMemoryJob(ephemeral), run_config=run_config, instance_ref=instance.get_ref()
    )
    # QUEUED needs the job's origin; without the daemon's tag limit the run waits NOT_STARTED instead.
    queued = daemon_leaves_worker_runs_alone(instance)
    return instance.create_run_for_job(
        job_def=ephemeral,
        execution_plan=plan,
        run_id=run_id,
        run_config=run_config,
        tags=run_tags,
        asset_selection=frozenset(selection) if selection is not None else None,
        status=dg.DagsterRunStatus.QUEUED if queued else dg.DagsterRunStatus.NOT_STARTED,
        remote_job_origin=_job_origin(job.name) if queued else None,  # type: ignore[arg-type]
    )


def waiting_runs(instance: dg.DagsterInstance, launchers: list[str] | None = None) -> list[dg.DagsterRun]:
    """The worker's queued runs (or those of `launchers`), first in line first."""
    filters = dg.RunsFilter(statuses=WAITING, tags={tags.LAUNCHER: launchers or WORKER_LAUNCHER})
    return list(instance.get_runs(filters=filters, ascending=True))


def runs_in_progress(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    """Our runs that hold a slot: claimed, running or being canceled (worker and CLI runs)."""
    return list(
        instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS, tags={tags.LAUNCHER: LAUNCHERS}))
    )


def claim_runs(
    instance: dg.DagsterInstance, slots: int, *, only: str | None = None, kind: str = WORKER_LAUNCHER
) -> list[dg.DagsterRun]:
    """Mark the oldest queued runs STARTING while fewer than `slots` runs are in progress; return them.

    The claim names this process as responsible for each run (`kind` "worker": it will start a child for
    it; "run": it runs it itself), so a process killed before the run starts is noticed. With `only`,
    claim that run alone, and only when it is first in line.
    """
    claimed: list[dg.DagsterRun] = []
    with file_lock(runs_lock(instance)):
        free = slots - len(runs_in_progress(instance))
        for run in waiting_runs(instance)[: max(0, free)]:
            if only is not None and run.run_id != only:
                break
            instance.add_run_tags(run.run_id, tags.process_tags(kind))
            starting = dg.DagsterEvent(
                event_type_value=dg.DagsterEventType.RUN_STARTING.value, job_name=run.job_name
            )
            instance.report_dagster_event(starting, run_id=run.run_id)
            claimed.append(run)
    return claimed

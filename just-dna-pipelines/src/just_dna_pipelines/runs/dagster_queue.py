"""Runs through Dagster's own queue ("queue" run mode): submitted to the QueuedRunCoordinator, launched by the
dagster-daemon with the configured run launcher from the gRPC code server.

A run is created from the code server's view of the job (as `dagster job launch` does), so every launcher
(a process of the code server, a Docker container, a Kubernetes job) can start it; the daemon starts it
when fewer than JUST_DNA_PIPELINES_MAX_CONCURRENT_RUNS runs are in progress and its user has fewer than
JUST_DNA_PIPELINES_MAX_RUNS_PER_USER. A run whose process dies is failed by the code server (it watches its
run processes) or by Dagster's run monitoring (a run that never starts, or a dead container).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import dagster as dg

from just_dna_pipelines.defs.annotation.io_managers import run_staging_size
from just_dna_pipelines.errors import PipelineError
from just_dna_pipelines.io.file_lock import file_lock
from just_dna_pipelines.keys import parse_partition_key
from just_dna_pipelines.runs import tags
from just_dna_pipelines.runs.config import RunRequest
from just_dna_pipelines.runs.dagster_config import CODE_LOCATION, QUEUE_LAUNCHER
from just_dna_pipelines.runs.liveness import clear_ended_run
from just_dna_pipelines.runs.queue import IN_PROGRESS, SAMPLE_BUSY, WAITING, runs_lock
from just_dna_pipelines.runs.sample_claim import sample_claimed

IN_PROCESS: dict[str, Any] = {
    "execution": {"config": {"in_process": {}}}
}  # one process per run: no per-step start-up cost
CANCEL_TIMEOUT_S = 60.0
CODE_SERVER_WAIT_S = 120.0  # loading the definitions takes a code server tens of seconds on a busy machine
POLL_S = 0.2

_contexts: dict[str, Any] = {}  # DAGSTER_HOME -> WorkspaceProcessContext (keeps the code server's snapshot)
_lock = threading.Lock()


def _workspace(instance: dg.DagsterInstance, reload: bool = False) -> Any:
    """A request context on the workspace.yaml of the instance's home (the code server's definitions)."""
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget

    home = instance.root_directory
    with _lock:
        context = _contexts.get(home)
        if context is not None and reload:
            # A fresh connection, not reload_code_location: that would restart the code server's definitions.
            _contexts.pop(home).__exit__(None, None, None)
            context = None
        if context is None:
            target = WorkspaceFileTarget(paths=[str(Path(home) / "workspace.yaml")])
            context = _contexts[home] = WorkspaceProcessContext(instance, target)
        return context.create_request_context()


def _code_location(instance: dg.DagsterInstance) -> Any:
    """The code location served by the code server; reconnects once, then one line saying what to start."""
    for attempt in range(2):
        workspace = _workspace(instance, reload=attempt > 0)
        if workspace.has_code_location(CODE_LOCATION):
            return workspace, workspace.get_code_location(CODE_LOCATION)
    error = workspace.get_code_location_error(CODE_LOCATION)
    reason = (
        (str(error.message).strip().splitlines() or ["not loaded"])[0] if error else "not in workspace.yaml"
    )
    raise PipelineError(
        f"the Dagster code server is not reachable ({reason}); start it (`dagster code-server start "
        f"-m just_dna_pipelines.definitions --location-name {CODE_LOCATION} ...`) or set JUST_DNA_RUN_MODE=local"
    )


def submit(instance: dg.DagsterInstance, request: RunRequest, run_id: str) -> str:
    """Create the run from the code server's job and put it in Dagster's queue; return its id."""
    from dagster._core.definitions.selector import JobSubsetSelector

    from just_dna_pipelines.runs.execute import ensure_partition

    workspace, location = _code_location(instance)
    (repository,) = location.get_repositories().values()
    job_name = request.job_name
    full_job = repository.get_full_job(job_name)
    wanted = request.asset_selection()
    selection = None
    if wanted is not None:
        known = repository.asset_graph.asset_keys_for_job(job_name)
        selection = frozenset(key for key in map(dg.AssetKey.from_user_string, wanted) if key in known)
    selector = JobSubsetSelector(
        location_name=location.name,
        repository_name=repository.name,
        job_name=job_name,
        op_selection=None,
        asset_selection=selection,
    )
    remote_job = location.get_job(selector)
    run_config = {**request.run_config(), **IN_PROCESS}
    plan = location.get_execution_plan(
        remote_job, run_config, step_keys_to_execute=None, known_state=None, instance=instance
    )
    user, _ = parse_partition_key(request.partition_key)
    run_tags = {
        **full_job.tags,
        tags.PARTITION: request.partition_key,
        tags.LAUNCHER: QUEUE_LAUNCHER,
        tags.MODULES: ",".join(request.module_names()),
        tags.USER: user,
    }
    ensure_partition(instance, request.partition_key)
    with file_lock(runs_lock(instance)):
        busy = dg.RunsFilter(statuses=WAITING + IN_PROGRESS, tags={tags.PARTITION: request.partition_key})
        if instance.get_runs(filters=busy, limit=1) or sample_claimed(instance, request.partition_key):
            raise PipelineError(SAMPLE_BUSY)
        run = instance.create_run(
            job_name=job_name,
            run_id=run_id,
            run_config=run_config,
            resolved_op_selection=remote_job.resolved_op_selection,
            step_keys_to_execute=plan.execution_plan_snapshot.step_keys_to_execute,
            op_selection=None,
            status=None,
            root_run_id=None,
            parent_run_id=None,
            tags=run_tags,
            job_snapshot=remote_job.job_snapshot,
            execution_plan_snapshot=plan.execution_plan_snapshot,
            parent_job_snapshot=remote_job.parent_job_snapshot,
            remote_job_origin=remote_job.get_remote_origin(),
            job_code_origin=remote_job.get_python_origin(),
            asset_selection=selection,
            asset_check_selection=None,
            asset_graph=repository.asset_graph,
        )
    instance.submit_run(run.run_id, workspace)
    return run.run_id


def warm_up(instance: dg.DagsterInstance, timeout: float = CODE_SERVER_WAIT_S) -> None:
    """Load the code server's definitions now (waiting while it starts), so the first Run click need not."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            _code_location(instance)
            return
        except PipelineError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)


def cancel(
    instance: dg.DagsterInstance, run: dg.DagsterRun, output_dir: Path | None = None
) -> tuple[dg.DagsterRun, int | None]:
    """Cancel a run of the queue: dequeued at once if waiting, else stopped by its run launcher; wait until it ends.

    Returns the ended run and the bytes of unfinished outputs it had staged (removed here).
    """
    staged = run_staging_size(run.run_id, output_dir)
    instance.run_coordinator.cancel_run(run.run_id)
    deadline = time.monotonic() + CANCEL_TIMEOUT_S
    while (current := instance.get_run_by_id(run.run_id)) is not None and not current.is_finished:
        if time.monotonic() > deadline:
            raise PipelineError(
                f"the run did not stop within {CANCEL_TIMEOUT_S:.0f} s; see it in the Dagster UI"
            )
        time.sleep(POLL_S)
    # Its staging goes; a failed or canceled run's kept outputs are put back first (its process may have been
    # killed, not stopped, before it could put them back itself).
    clear_ended_run(instance, current or run, output_dir)
    return current or run, staged


def crash_reason(instance: dg.DagsterInstance, run: dg.DagsterRun) -> str | None:
    """Dagster's account of a queue run that ended failed from outside its execution (no step failed): its process
    killed (reported by the code server or run monitoring), or never started; None if it failed on its own."""
    entries = instance.all_logs(run.run_id)
    messages = [
        (e.dagster_event.message if e.dagster_event else None) or e.user_message or "" for e in entries
    ]
    outside = (
        "terminated",
        "exited",
        "Detected run worker status",
        "timed out",
        "from outside the execution",
    )
    return next((m for m in reversed(messages) if any(word in m for word in outside)), None)

"""Cancel a run: a queued one leaves the queue, a running one has its process stopped; staging goes either way."""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from just_dna_pipelines.defs.annotation.io_managers import run_staging_size
from just_dna_pipelines.errors import PipelineError
from just_dna_pipelines.io.file_lock import file_lock
from just_dna_pipelines.runs import tags
from just_dna_pipelines.runs.dagster_config import QUEUE_LAUNCHER
from just_dna_pipelines.runs.events import STATUS_NAMES
from just_dna_pipelines.runs.liveness import end_run, stop_run_process
from just_dna_pipelines.runs.pending import read_pending
from just_dna_pipelines.runs.queue import WAITING, runs_lock

TERM_GRACE_S = 5.0  # then SIGKILL
GONE_TIMEOUT_S = 60.0  # a claimed run whose worker neither starts nor ends it by then is ended here
CREATED_GRACE_S = 10.0  # a creator finishes a run it made in well under a second
POLL_S = 0.05


@dataclass(frozen=True)
class Canceled:
    """A canceled run, and how many bytes of unfinished outputs it had staged (None: none)."""

    run: dg.DagsterRun
    staged_bytes: int | None


def cancel_run(instance: dg.DagsterInstance, run_id: str, output_dir: Path | None = None) -> Canceled:
    """Cancel a queued or running run and wait until its process has stopped; raise PipelineError if it had ended.

    The run's staging is removed (by the run as it stops, or here); its size is measured first, to be told.
    """
    from just_dna_pipelines.runs import dagster_queue

    _wait_until_created(instance, run_id)
    queued = instance.get_run_by_id(run_id)
    # Dagster's queue, and a run started outside the app (the drop-folder sensor, automation, the Dagster UI;
    # no launcher tag of ours, no process of ours to stop): Dagster's own cancel, then wait until it ends (it
    # was told canceled at once while it went on writing the sample's results).
    if queued is not None and queued.tags.get(tags.LAUNCHER, QUEUE_LAUNCHER) == QUEUE_LAUNCHER:
        if queued.is_finished:
            raise PipelineError(f"the run has already finished ({STATUS_NAMES.get(queued.status, 'ended')})")
        return Canceled(*dagster_queue.cancel(instance, queued, output_dir))
    with file_lock(runs_lock(instance)):
        run = instance.get_run_by_id(run_id)
        if run is None:
            raise KeyError(f"no run {run_id}")
        if run.is_finished:
            raise PipelineError(f"the run has already finished ({STATUS_NAMES.get(run.status, 'ended')})")
        if run.status in WAITING:
            instance.report_run_canceling(run, message="removing the run from the queue")
            instance.report_run_canceled(run, message="canceled before it started")
        elif run.status != dg.DagsterRunStatus.CANCELING:
            instance.report_run_canceling(run, message="canceled by the user")
    staged = run_staging_size(run_id, output_dir)
    if run.status not in WAITING:
        _wait_for_process_to_stop(instance, run_id)
    return Canceled(end_run(instance, run_id, output_dir) or run, staged)


def _wait_until_created(instance: dg.DagsterInstance, run_id: str) -> None:
    """An accepted run becomes a Dagster run within a moment; one that could not be created has finished.

    Waits until its creator is done (the pending record goes), not only until the run exists: the creator goes on
    writing the run's planned events and its partition, which a deletion canceling the run at once left behind
    (events of the deleted sample in the index, an event database written again without its tables). A record
    its creator never removed (the creator killed) is waited for CREATED_GRACE_S once the run exists.
    """
    home = Path(instance.root_directory)
    started = time.monotonic()
    exists_since: float | None = None
    while (entry := read_pending(home, run_id)) is not None and time.monotonic() - started < GONE_TIMEOUT_S:
        if entry["error"]:
            raise PipelineError("the run has already finished (failure)")
        if exists_since is None and instance.get_run_by_id(run_id) is not None:
            exists_since = time.monotonic()
        if exists_since is not None and time.monotonic() - exists_since > CREATED_GRACE_S:
            return
        time.sleep(POLL_S)


def _wait_for_process_to_stop(instance: dg.DagsterInstance, run_id: str) -> None:
    """Stop the run's process (TERM, then KILL after a grace period) and return once it is gone.

    A run claimed but not yet started by the worker has no process of its own: its child sees the
    cancel before it starts and exits, or the process that then starts it is stopped here.
    """
    started = time.monotonic()
    termed_at: float | None = None
    ended_at: float | None = None
    while time.monotonic() - started < GONE_TIMEOUT_S:
        record = instance.get_run_record_by_id(run_id)
        if record is None:
            return
        run = record.dagster_run
        alive = tags.responsible_process_alive(run.tags)
        if alive is False:
            return
        if run.is_finished:
            # The run's own process stores its end before it exits: wait for it to go (on a busy machine it
            # was still there when the caller went on to delete its sample), killed after the grace period.
            if alive is None or run.tags.get(tags.PROCESS) != "run":
                return
            ended_at = ended_at or time.monotonic()
            if time.monotonic() - ended_at > TERM_GRACE_S:
                stop_run_process(run, signal.SIGKILL)
            time.sleep(POLL_S)
            continue
        if run.tags.get(tags.PROCESS) == "run":
            # Signalled only once Dagster started it (RUN_START stored; at most TERM_GRACE_S waited): RUN_START sets
            # the status to STARTED whatever it was, so a cancel requested just before (claimed, about to start)
            # is overwritten, and the stopped run would count as an unexpected failure; so it is asked again.
            if termed_at is None and (
                record.start_time is not None or time.monotonic() - started >= TERM_GRACE_S
            ):
                if run.status != dg.DagsterRunStatus.CANCELING:  # its start overwrote the request
                    instance.report_run_canceling(run, message="canceled by the user")
                stop_run_process(run, signal.SIGTERM)
                termed_at = time.monotonic()
            elif termed_at is not None and time.monotonic() - termed_at > TERM_GRACE_S:
                stop_run_process(run, signal.SIGKILL)
        elif alive is None:
            return  # run on another machine: its own launcher stops it
        time.sleep(POLL_S)

"""A command's run stopped by a signal ends canceled, as a run canceled in the web app does.

A command executes its run on its main thread, where Dagster takes Ctrl-C (and SIGTERM, which the web app's Cancel
of a command's run sends) as an interrupt of the running step. Dagster ends an interrupted run CANCELED when it
finds it CANCELING, else FAILURE ("interrupted unexpectedly", which the web app shows as a crash): the listener here
marks the run CANCELING as the interrupted step's failure is stored, before Dagster decides.
"""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg
from dagster._core.execution.plan.objects import ErrorSource

from just_dna_pipelines.io.file_lock import file_lock
from just_dna_pipelines.runs.events import FAILURE_REASON
from just_dna_pipelines.runs.queue import runs_lock

INTERRUPTED_MESSAGE = "interrupted"
# Dagster's failure reason for an interrupt it found no cancel for
UNEXPECTED_TERMINATION = "UNEXPECTED_TERMINATION"


def cancel_on_interrupt(instance: dg.DagsterInstance, run_id: str) -> Callable[[dg.EventLogEntry], None]:
    """An event listener for `run_id` that marks the run CANCELING when one of its steps is interrupted."""

    def listen(entry: dg.EventLogEntry) -> None:
        event = entry.dagster_event
        if event is None or not event.is_step_failure:
            return
        if event.step_failure_data.error_source != ErrorSource.INTERRUPT:
            return
        with file_lock(runs_lock(instance)):  # as the web app's cancel: never over a run that has ended
            run = instance.get_run_by_id(run_id)
            if run is not None and run.status == dg.DagsterRunStatus.STARTED:
                instance.report_run_canceling(run, message=INTERRUPTED_MESSAGE)

    return listen


def was_interrupted(run: dg.DagsterRun | None) -> bool:
    """Whether a run that ended was stopped by a signal: canceled, or failed by an interrupt (one outside its
    steps, which the listener does not see)."""
    if run is None:
        return False
    return run.status == dg.DagsterRunStatus.CANCELED or (
        run.status == dg.DagsterRunStatus.FAILURE and run.tags.get(FAILURE_REASON) == UNEXPECTED_TERMINATION
    )

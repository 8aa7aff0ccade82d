"""Run a sample's job in this process on the persistent instance, printing its progress as it goes."""

from __future__ import annotations

import queue
import threading
import time
import uuid
from typing import TYPE_CHECKING, NoReturn

from just_dna_pipelines import startup_gc
from just_dna_pipelines.errors import PipelineError, printable
from just_dna_pipelines.runs.config import RunRequest

if TYPE_CHECKING:
    import dagster as dg

    from just_dna_pipelines.runs.models import ProgressEvent
    from just_dna_pipelines.runs.previous_outputs import PreviousOutputs

RUN_ENDED = object()  # put on the progress queue once the run is done


def _progress_line(event: ProgressEvent, elapsed: float) -> str | None:
    """The CLI's line for a progress event (steps starting and ending, info and warning logs), or None."""
    if event.kind == "step_start":
        return f"[{elapsed:5.1f}s] {event.step} ..."
    if event.kind == "step_success":
        return f"[{elapsed:5.1f}s] {event.step} done"
    if event.kind == "log" and event.level in {"info", "warning"}:
        prefix = "warning: " if event.level == "warning" else ""
        return f"[{elapsed:5.1f}s]   {prefix}{event.message}"
    return None


def _print_progress(events: queue.SimpleQueue) -> None:
    """Print the run's events as the run hands them over, until RUN_ENDED comes after the run's last.

    The run's instance passes each event to a listener as it stores it, so nothing polls the event log
    (reading it every 0.2 s took the GIL from the run for seconds on a whole genome), and the command ends the
    moment the run does (waiting for the queue with a timeout cost up to that timeout after every run).
    """
    from just_dna_pipelines.runs.events import entry_event

    started = time.perf_counter()
    while True:
        entry = events.get()
        if entry is RUN_ENDED:
            return
        event = entry_event(entry)
        line = _progress_line(event, time.perf_counter() - started) if event is not None else None
        if line is not None:
            print(printable(line), flush=True)  # a log may quote the genome's or a module's own text


def run_definitions(request: RunRequest) -> dg.Definitions | None:
    """The definitions a run of `request` needs: a sample's module annotation and report alone (the full
    code location, None, only for an Ensembl run). The jobs are the ones the code location holds."""
    if request.ensembl:
        return None
    from just_dna_pipelines.defs.jobs import sample_definitions
    from just_dna_pipelines.modules.registry import graph_module_names

    return sample_definitions(graph_module_names())


def execute_with_progress(request: RunRequest, what: str, run_id: str | None = None) -> str:
    """Run `request` (as `run_id`, else a new one) with live progress; return the run id, or raise
    PipelineError with the failure's line (KeyboardInterrupt when a signal stopped it).

    A run that does not succeed leaves the sample as it was before: its outputs are put back (runs/
    previous_outputs.py), its staging removed, and it ends canceled (interrupted) or failed in the instance; a
    sample no run ever completed is forgotten again (partition and outputs), so refused input leaves nothing.
    """
    run_id = run_id or str(uuid.uuid4())
    # before Dagster loads, which takes a second or two
    print(printable(f"{what} (run {run_id})"), flush=True)
    from just_dna_pipelines.runs.instance import get_instance

    # Created or migrated once under a lock: the app or Dagster may open a fresh DAGSTER_HOME at the same time.
    instance = get_instance()
    definitions = run_definitions(request)
    from dagster._core.execution import api  # noqa: F401  (what executing the run imports, loaded before settling)

    from just_dna_pipelines.cli.interrupts import run_with_interrupts
    from just_dna_pipelines.runs.sample_claim import claim_sample

    with claim_sample(instance, request.partition_key):  # one run of a sample at a time, whoever starts it
        return run_with_interrupts(lambda: _execute_claimed(instance, request, run_id, definitions))


def _execute_claimed(
    instance: dg.DagsterInstance, request: RunRequest, run_id: str, definitions: dg.Definitions | None
) -> str:
    """execute_with_progress once the sample is held: the run on this thread (the main one, where Dagster takes
    Ctrl-C, unless the caller ignores it: cli/interrupts.py), its progress printed by another."""
    from just_dna_pipelines.runs.execute import execute_run
    from just_dna_pipelines.runs.interrupted import cancel_on_interrupt
    from just_dna_pipelines.runs.previous_outputs import drop, keep_outputs_of

    startup_gc.settle()  # every import the run needs is done: collect again, for what the run makes
    events: queue.SimpleQueue = queue.SimpleQueue()
    instance.add_event_listener(run_id, events.put)
    instance.add_event_listener(run_id, cancel_on_interrupt(instance, run_id))
    printer = threading.Thread(target=_print_progress, args=(events,), name="progress", daemon=True)
    printer.start()
    previous = None
    try:
        previous = keep_outputs_of(request.partition_key, run_id)
        result = execute_run(request, run_id=run_id, definitions=definitions)
    except BaseException:
        _end_progress(events, printer)
        _undo(instance, request, run_id, previous)
        raise
    _end_progress(events, printer)
    if not result.success:
        _undo(instance, request, run_id, previous)
        _raise_failure(instance, run_id, result)
    if previous is not None:
        drop(previous)
    return run_id


def _end_progress(events: queue.SimpleQueue, printer: threading.Thread) -> None:
    """Let the printer print the run's last events, and wait until it has."""
    events.put(RUN_ENDED)  # after the run's last event: the listener is called as each is stored
    printer.join()


def _undo(
    instance: dg.DagsterInstance, request: RunRequest, run_id: str, previous: PreviousOutputs | None
) -> None:
    """After a run that did not succeed: the sample's outputs as they were, the run ended (failed if it had not
    ended: it crashed) with its staging removed, and a sample that had no outputs forgotten again if unused.

    `previous` is None when the outputs could not be kept: the run never started, so nothing changed."""
    from just_dna_pipelines.runs.execute import forget_partition_if_unused
    from just_dna_pipelines.runs.liveness import end_run
    from just_dna_pipelines.runs.previous_outputs import put_back

    if previous is not None:
        put_back(previous)
    end_run(instance, run_id)  # the web app's clean-up of a stopped run
    if previous is not None and previous.kept is None:
        forget_partition_if_unused(request.partition_key)


def _raise_failure(instance: dg.DagsterInstance, run_id: str, result: dg.ExecuteInProcessResult) -> NoReturn:
    """KeyboardInterrupt for a run a signal stopped, else PipelineError with its first step failure's line."""
    from just_dna_pipelines.runs.events import failure_message
    from just_dna_pipelines.runs.interrupted import was_interrupted

    if was_interrupted(instance.get_run_by_id(run_id)):
        raise KeyboardInterrupt  # the command's one line for it: "error: interrupted", status 130
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = "the run failed"
    if failures and failures[0].step_failure_data and failures[0].step_failure_data.error:
        message = failure_message(failures[0].step_failure_data.error)
    raise PipelineError(message)

"""Run a sample's job in this process on the persistent instance, printing its progress as it goes."""

from __future__ import annotations

import gc
import threading
import time
import uuid
from typing import TYPE_CHECKING

from just_dna_pipelines.errors import PipelineError
from just_dna_pipelines.runs.config import RunRequest

if TYPE_CHECKING:
    import dagster as dg


def _print_progress(run_id: str, done: threading.Event) -> None:
    """Print the run's step and log events as they arrive, until the run thread ends."""
    from just_dna_pipelines.runs.events import run_events
    from just_dna_pipelines.runs.instance import get_instance

    instance = get_instance()
    cursor = -1
    started = time.perf_counter()
    while True:
        finished = done.is_set()
        for event in run_events(instance, run_id, cursor):
            cursor = event.cursor
            elapsed = time.perf_counter() - started
            if event.kind == "step_start":
                print(f"[{elapsed:5.1f}s] {event.step} ...", flush=True)
            elif event.kind == "step_success":
                print(f"[{elapsed:5.1f}s] {event.step} done", flush=True)
            elif event.kind == "log" and event.level in {"info", "warning"}:
                prefix = "warning: " if event.level == "warning" else ""
                print(f"[{elapsed:5.1f}s]   {prefix}{event.message}", flush=True)
        if finished:
            return
        done.wait(0.2)


def run_definitions(request: RunRequest) -> dg.Definitions | None:
    """The definitions a run of `request` needs: a sample's module annotation and report alone (the full
    code location, None, only for an Ensembl run). The jobs are the ones the code location holds."""
    if request.ensembl:
        return None
    from just_dna_pipelines.defs.jobs import sample_definitions
    from just_dna_pipelines.modules.registry import graph_module_names

    return sample_definitions(graph_module_names())


def execute_with_progress(request: RunRequest, what: str) -> str:
    """Run `request` with live progress; return the run id, or raise PipelineError with the failure's line.

    A sample no run ever completed is forgotten again (partition and outputs), so refused input leaves nothing.
    """
    run_id = str(uuid.uuid4())
    print(f"{what} (run {run_id})", flush=True)  # before Dagster loads, which takes a second or two
    definitions = run_definitions(request)
    from just_dna_pipelines.runs.events import failure_message
    from just_dna_pipelines.runs.execute import execute_run, forget_partition_if_unused

    # Everything loaded so far lives until the process ends: keep it out of the collector's full passes.
    gc.freeze()
    outcome: dict = {}
    done = threading.Event()

    def work() -> None:
        try:
            outcome["result"] = execute_run(request, run_id=run_id, definitions=definitions)
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=work, name="dagster-run", daemon=True)
    worker.start()
    _print_progress(run_id, done)
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    result = outcome["result"]
    if not result.success:
        failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        message = "the run failed"
        if failures and failures[0].step_failure_data and failures[0].step_failure_data.error:
            message = failure_message(failures[0].step_failure_data.error)
        forget_partition_if_unused(request.partition_key)
        raise PipelineError(message)
    return run_id

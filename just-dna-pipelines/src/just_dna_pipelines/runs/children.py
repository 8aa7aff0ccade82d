"""What the run worker's forked children do: create an accepted run (and run it when a slot is free), or run
a run the worker claimed. Each child has its own session (a cancel stops its whole process group) and
exits without returning to the worker's loop.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import traceback
from collections.abc import Callable
from typing import Any, NoReturn

from just_dna_pipelines.runs.homes import Home

RUN_NICENESS = 10  # runs yield the CPU to the web server (and the worker's replies) on small machines


def create_accepted(home: Home, message: dict[str, Any]) -> bool:
    """Create an accepted run in Dagster, queued; True if created now (a failure is kept as its error)."""
    from just_dna_pipelines.runs.config import RunRequest
    from just_dna_pipelines.runs.execute import ensure_partition
    from just_dna_pipelines.runs.instance import instance_for
    from just_dna_pipelines.runs.pending import fail_pending, read_pending, remove_pending
    from just_dna_pipelines.runs.queue import create_queued_run

    run_id = message["run_id"]
    if read_pending(home.path, run_id) is None:
        return False  # created by an earlier try of the same request, or its sample was deleted meanwhile
    instance = instance_for(home.path)
    if instance.get_run_by_id(run_id) is not None:  # created by another worker meanwhile
        remove_pending(home.path, run_id)
        return False
    request = RunRequest(**message["request"])
    try:
        ensure_partition(instance, request.partition_key)
        create_queued_run(instance, request, run_id)
    except Exception as exc:
        traceback.print_exc()
        fail_pending(home.path, run_id, f"the run could not be queued ({type(exc).__name__}: {exc})")
        return False
    remove_pending(home.path, run_id)
    return True


def _child_setup(home: Home, reply_fd: int) -> None:
    """What every forked child does first: no reply channel, its own session, the home's settings.

    It keeps the worker's instance: the SQLite storage closes its kept connections before every fork
    (runs/sqlite_pool.py), so nothing is shared across it, and opening another instance would cost a tenth
    of a second.
    """
    from just_dna_pipelines.settings import get_settings

    os.close(reply_fd)  # or the app would not see the worker's end while a run goes on
    os.setsid()  # its own process group: a cancel stops the run and whatever it started
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)  # stdout and stderr are the worker's log already
    os.environ.update(home.env)
    get_settings.cache_clear()


def _exit_child(body: Callable[[], int]) -> NoReturn:
    """Run a child's body and exit with its code, never returning to the worker's loop."""
    code = 1
    try:
        code = body()
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def creator_child(home: Home, message: dict[str, Any], worker_pid: int, reply_fd: int) -> NoReturn:
    """In a forked child: create one accepted run; if a slot is free and it is first in line, run it too.

    Running it here spares a second fork and a round trip through the worker: the common case of an
    idle machine starts the run as soon as it exists.
    """
    from just_dna_pipelines.runs.instance import instance_for
    from just_dna_pipelines.runs.queue import claim_runs

    def body() -> int:
        _child_setup(home, reply_fd)
        run_id = message["run_id"]
        if create_accepted(home, message) and claim_runs(
            instance_for(home.path), home.slots, only=run_id, kind="run"
        ):
            return _execute(home, run_id)
        return 0

    _exit_child(body)


def run_child(home: Home, run_id: str, reply_fd: int) -> NoReturn:
    """In a forked child: take over a run the worker claimed (unless canceled meanwhile) and execute it."""
    import dagster as dg

    from just_dna_pipelines.io.file_lock import file_lock
    from just_dna_pipelines.runs import tags
    from just_dna_pipelines.runs.instance import instance_for
    from just_dna_pipelines.runs.queue import runs_lock

    def body() -> int:
        _child_setup(home, reply_fd)
        instance = instance_for(home.path)
        with file_lock(runs_lock(instance)):
            run = instance.get_run_by_id(run_id)
            if run is None or run.status != dg.DagsterRunStatus.STARTING:
                return 0  # canceled before it started: the worker ends it as canceled
            instance.add_run_tags(run_id, tags.process_tags("run"))
        return _execute(home, run_id)

    _exit_child(body)


def _execute(home: Home, run_id: str) -> int:
    """Execute a claimed run in this process, at low priority; the exit code.

    A run's outputs count only as a whole, as a command's do (runs/previous_outputs.py): a run that fails or is
    canceled gets the sample's folder put back as it was before it, and a sample's first run its folder removed.
    It holds the sample's claim while it runs, as a command and a run of the jobs' executor do: a run from the
    Dagster UI started while this one waited for a slot is either refused or refuses this one (before, both ran,
    and the one ending last put its kept folder back over the other's results)."""
    from just_dna_pipelines.errors import PipelineError
    from just_dna_pipelines.runs import tags
    from just_dna_pipelines.runs.execute import execute_existing_run
    from just_dna_pipelines.runs.instance import instance_for
    from just_dna_pipelines.runs.liveness import fail_run
    from just_dna_pipelines.runs.previous_outputs import outputs_kept_whole
    from just_dna_pipelines.runs.sample_claim import sample_held

    os.nice(RUN_NICENESS)  # the run, not the worker: accepting Run clicks stays quick while others run
    instance = instance_for(home.path)
    run = instance.get_run_by_id(run_id)
    assert run is not None
    partition_key = run.tags[tags.PARTITION]
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(sample_held(instance, partition_key))
        except PipelineError as busy:
            fail_run(instance, run, str(busy))
            return 1
        outcome = held.enter_context(outputs_kept_whole(partition_key, run_id))
        outcome.succeeded = execute_existing_run(instance, run)
    return 0 if outcome.succeeded else 1

"""The warm run worker: one long-lived process that queues runs and starts them, a few at a time.

Starting a fresh Python for each run costs seconds of imports before any work happens. The worker
imports Dagster and the definitions once, then, for every DAGSTER_HOME it is told about:
- accepts each run request at once (pending.py) and replies; a forked child then creates its Dagster
  run, queued (queue.py), one at a time in the order accepted;
- starts the oldest queued runs while fewer than the configured maximum are in progress, each in a
  child it forks (so a run starts in milliseconds, in its own session, at a low CPU priority);
- notices a child's exit at once (SIGCHLD) and ends its run if the child could not (liveness.py);
- every POLL_S also ends runs whose process is gone, stops runs canceled elsewhere (e.g. the Dagster
  UI) and starts runs queued by other processes.
The worker itself never runs Polars or DuckDB work, so forking it is safe; children open their own
instance connections. Protocol: one JSON request per stdin line, one JSON reply per line on the
stdout the worker was started with.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

POLL_S = 1.0
ORPHANED_AFTER_S = 60.0  # an accepted run is created within seconds, unless its worker died
RUN_NICENESS = 10  # runs yield the CPU to the web server (and the worker's replies) on small machines


@dataclass(frozen=True)
class Home:
    """One DAGSTER_HOME the worker serves, with the configuration its runs get."""

    path: Path
    env: dict[str, str]
    output_dir: Path
    slots: int

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Home:
        """The home a request's environment (launcher.configuration_env) names."""
        return cls(
            Path(env["DAGSTER_HOME"]).resolve(),
            env,
            Path(env["JUST_DNA_PIPELINES_OUTPUT_DIR"]),
            max(1, int(env["JUST_DNA_PIPELINES_MAX_CONCURRENT_RUNS"])),
        )


def _warm_up() -> None:
    """Import everything a run needs (definitions, storage, execution) without running anything."""
    from dagster._core.execution import api  # noqa: F401

    from just_dna_pipelines.definitions import defs
    from just_dna_pipelines.runs import cancel, liveness, queue  # noqa: F401

    for name in ("annotate_and_report_job", "annotate_with_hf_modules_job"):
        defs.resolve_job_def(name)


class Worker:
    """The worker's state: the homes it serves and the run children it started."""

    def __init__(self) -> None:
        self.homes: dict[Path, Home] = {}
        # pid -> (home, run id, "create" | "run"): a creator may go on to run the run it created
        self.children: dict[int, tuple[Path, str, str]] = {}
        self.to_create: deque[tuple[Home, dict[str, Any]]] = deque()  # accepted, first come first created
        self.creating: tuple[int, Home, str] | None = None  # the creator at work: pid, home, run id

    def serve(self, env: dict[str, str]) -> Home:
        """Start serving a home (ending runs a killed predecessor left in progress), or refresh its settings."""
        from just_dna_pipelines.runs.instance import instance_for
        from just_dna_pipelines.runs.liveness import reconcile_runs
        from just_dna_pipelines.runs.pending import orphaned

        home = Home.from_env(env)
        first = home.path not in self.homes
        instance = instance_for(home.path)
        self.homes[home.path] = home
        if first:
            reconcile_runs(instance, home.output_dir, legacy=True)
            for entry in orphaned(home.path, ORPHANED_AFTER_S):
                self.to_create.append((home, {"run_id": entry["run_id"], "request": entry["request"]}))
        return home

    def accept(self, message: dict[str, Any]) -> Home:
        """Accept a run request (one unfinished run per sample), recorded as pending until created."""
        import dagster as dg

        from just_dna_pipelines.errors import PipelineError
        from just_dna_pipelines.runs import tags
        from just_dna_pipelines.runs.config import RunRequest
        from just_dna_pipelines.runs.instance import instance_for
        from just_dna_pipelines.runs.liveness import check_run
        from just_dna_pipelines.runs.locks import file_lock
        from just_dna_pipelines.runs.pending import add_pending, pending_of, read_pending
        from just_dna_pipelines.runs.queue import IN_PROGRESS, WAITING, runs_lock

        home = self.serve(message["env"])
        instance = instance_for(home.path)
        request = RunRequest(**message["request"])
        run_id = message["run_id"]
        filters = dg.RunsFilter(statuses=WAITING + IN_PROGRESS, tags={tags.PARTITION: request.partition_key})
        for run in instance.get_runs(filters=filters):
            check_run(instance, run, home.output_dir)  # a dead run does not block a new one
        with file_lock(runs_lock(instance)):
            if instance.get_run_by_id(run_id) is None and read_pending(home.path, run_id) is None:
                accepted = [e for e in pending_of(home.path, request.partition_key) if not e["error"]]
                if (
                    instance.get_runs(filters=filters, limit=1) or accepted
                ):  # a retry is not refused by itself
                    raise PipelineError(
                        "this sample already has a run queued or running; wait for it or cancel it"
                    )
                add_pending(home.path, run_id, request)
        return home

    def create_next(self) -> None:
        """Create the oldest accepted run in a forked child (one at a time, so the queue keeps its order).

        (The creator may then run it; it is done creating once the run's pending record is gone.)

        Creating a Dagster run takes a few hundred milliseconds of CPU; in a child, the worker meanwhile
        answers further Run clicks at once.
        """
        from just_dna_pipelines.runs.pending import read_pending

        if self.creating is not None:
            pid, home, run_id = self.creating
            if pid in self.children and read_pending(home.path, run_id) is not None:
                return  # still creating; it signals (SIGUSR1) or exits when done
            self.creating = None
        if not self.to_create:
            return
        home, message = self.to_create.popleft()
        worker_pid = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            traceback.print_exc()
            _create(home, message)
            self._guarded(home, self.dispatch, home)
            return
        if pid == 0:
            _create_child(home, message, worker_pid)
        self.children[pid] = (home.path, message["run_id"], "create")
        self.creating = (pid, home, message["run_id"])

    def dispatch(self, home: Home) -> None:
        """End dead runs, then start queued runs of `home` while slots are free."""
        from just_dna_pipelines.runs.instance import instance_for
        from just_dna_pipelines.runs.liveness import reconcile_runs
        from just_dna_pipelines.runs.queue import claim_runs

        instance = instance_for(home.path)
        reconcile_runs(instance, home.output_dir)
        for run in claim_runs(instance, home.slots):
            self.start(home, run.run_id)

    def start(self, home: Home, run_id: str) -> None:
        """Fork a child that executes the claimed run."""
        try:
            pid = os.fork()
        except OSError:
            from just_dna_pipelines.runs.instance import instance_for
            from just_dna_pipelines.runs.liveness import end_run

            traceback.print_exc()
            end_run(instance_for(home.path), run_id, home.output_dir)
            return
        if pid == 0:
            _run_child(home, run_id)
        self.children[pid] = (home.path, run_id, "run")

    def reap(self) -> None:
        """Collect exited children; end their runs if they could not; fill the freed slots."""
        while self.children:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            path, run_id, kind = self.children.pop(pid, (None, "", ""))
            home = self.homes.get(path) if path else None
            if home is not None:
                # A creator ended the run only if it went on to run it; else a run child of ours may run it.
                self._guarded(home, self._end, home, run_id, pid if kind == "create" else None)
                self._guarded(home, self.dispatch, home)  # a freed slot, or the run just created

    def periodic(self) -> None:
        """The regular pass over every home served."""
        for home in list(self.homes.values()):
            self._guarded(home, self.dispatch, home)

    def _end(self, home: Home, run_id: str, only_if_run_by: int | None = None) -> None:
        """End a run whose process exited (a no-op if it ended itself); with `only_if_run_by`, only if that pid ran it."""
        from just_dna_pipelines.runs import tags
        from just_dna_pipelines.runs.instance import instance_for
        from just_dna_pipelines.runs.liveness import end_run

        instance = instance_for(home.path)
        if only_if_run_by is not None:
            run = instance.get_run_by_id(run_id)
            if run is None or run.tags.get(tags.PID) != str(only_if_run_by):
                return
        end_run(instance, run_id, home.output_dir)

    def _guarded(self, home: Home, action: Callable[..., object], *args: Any) -> None:
        """Run an action for a home; a home whose folder is gone (a finished test, say) is dropped."""
        try:
            action(*args)
        except Exception:
            if not home.path.is_dir():
                self.homes.pop(home.path, None)
            else:
                traceback.print_exc()


def _create(home: Home, message: dict[str, Any]) -> bool:
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


def _child_setup(home: Home) -> None:
    """What every forked child does first: no reply channel, its own session, the home's settings.

    It keeps the worker's instance: SQLite storage holds no connection between calls, so nothing is
    shared across the fork, and opening another instance would cost a tenth of a second.
    """
    from just_dna_pipelines.settings import get_settings

    os.close(_reply_fd)  # or the app would not see the worker's end while a run goes on
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


def _create_child(home: Home, message: dict[str, Any], worker_pid: int) -> NoReturn:
    """In a forked child: create one accepted run; if a slot is free and it is first in line, run it too.

    Running it here spares a second fork and a round trip through the worker: the common case of an
    idle machine starts the run as soon as it exists.
    """
    from just_dna_pipelines.runs.instance import instance_for
    from just_dna_pipelines.runs.queue import claim_runs

    def body() -> int:
        _child_setup(home)
        run_id = message["run_id"]
        if _create(home, message) and claim_runs(
            instance_for(home.path), home.slots, only=run_id, kind="run"
        ):
            return _execute(home, run_id)
        return 0

    _exit_child(body)


def _run_child(home: Home, run_id: str) -> NoReturn:
    """In a forked child: take over a run the worker claimed (unless canceled meanwhile) and execute it."""
    import dagster as dg

    from just_dna_pipelines.runs import tags
    from just_dna_pipelines.runs.instance import instance_for
    from just_dna_pipelines.runs.locks import file_lock
    from just_dna_pipelines.runs.queue import runs_lock

    def body() -> int:
        _child_setup(home)
        instance = instance_for(home.path)
        with file_lock(runs_lock(instance)):
            run = instance.get_run_by_id(run_id)
            if run is None or run.status != dg.DagsterRunStatus.STARTING:
                return 0  # canceled before it started: the worker ends it as canceled
            instance.add_run_tags(run_id, tags.process_tags("run"))
        return _execute(home, run_id)

    _exit_child(body)


def _execute(home: Home, run_id: str) -> int:
    """Execute a claimed run in this process, at low priority; the exit code."""
    from just_dna_pipelines.runs.execute import execute_existing_run
    from just_dna_pipelines.runs.instance import instance_for

    os.nice(RUN_NICENESS)  # the run, not the worker: accepting Run clicks stays quick while others run
    instance = instance_for(home.path)
    run = instance.get_run_by_id(run_id)
    assert run is not None
    return 0 if execute_existing_run(instance, run) else 1


_reply_fd = 1  # the app reads replies here; main() moves it off stdout, so stray prints go to the log


def _reply(payload: dict[str, Any]) -> None:
    os.write(_reply_fd, (json.dumps(payload) + "\n").encode())


def _handle(worker: Worker, line: bytes) -> None:
    """Answer one request line at once: {"op": "serve" | "enqueue", "env": {...}, ...}.

    An accepted run is created later (Worker.create_next), so a burst of Run clicks is answered at once.
    """
    from just_dna_pipelines.errors import PipelineError

    try:
        message = json.loads(line)
        enqueue = message.get("op") == "enqueue"
        home = worker.accept(message) if enqueue else worker.serve(message["env"])
    except PipelineError as exc:
        _reply({"error": str(exc)})
        return
    except Exception as exc:
        traceback.print_exc()
        _reply({"error": f"the run worker could not take the request ({type(exc).__name__}: {exc})"})
        return
    _reply({"ok": True})
    if enqueue:
        worker.to_create.append((home, message))
    else:
        worker._guarded(home, worker.dispatch, home)


def _drain(fd: int) -> None:
    """Empty the signal wake-up pipe."""
    while True:
        try:
            if not os.read(fd, 512):
                return
        except BlockingIOError:
            return


def main() -> None:
    """Warm up, say "ready", then serve requests and the queue until stdin closes.

    One thread only: children are forked from it, so no lock can be held by another thread at a fork.
    """
    log_path = sys.argv[1] if len(sys.argv) > 1 else os.devnull
    _warm_up()
    global _reply_fd
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    _reply_fd = os.dup(1)
    os.dup2(log_fd, 1)  # whatever Dagster or a library prints must not end up in a reply
    os.dup2(log_fd, 2)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)  # these signals wake the loop at once:
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a child exited
    signal.signal(signal.SIGUSR1, lambda *_: None)  # a creator has created its run
    worker = Worker()
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    _reply({"ready": True})
    buffered = b""
    next_pass = time.monotonic() + POLL_S
    while True:
        for key, _ in selector.select(max(0.0, next_pass - time.monotonic())):
            if key.fd == wake_r:
                _drain(wake_r)
                continue
            data = os.read(0, 1 << 16)
            if not data:
                return  # the app closed our input: its runs go on in their own processes
            buffered += data
            while b"\n" in buffered:
                line, buffered = buffered.split(b"\n", 1)
                if line.strip():
                    _handle(worker, line)
        worker.reap()
        worker.create_next()
        if time.monotonic() >= next_pass:
            worker.periodic()
            next_pass = time.monotonic() + POLL_S


if __name__ == "__main__":
    main()

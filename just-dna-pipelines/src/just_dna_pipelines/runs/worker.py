"""The warm run worker: one long-lived process that queues runs and starts them, a few at a time.

Starting a fresh Python for each run costs seconds of imports before any work happens. The worker
imports Dagster and the definitions once, then, for every DAGSTER_HOME it is told about:
- accepts each run request at once (pending.py) and replies; a forked child then creates its Dagster
  run, queued (queue.py), one at a time in the order accepted, and runs it itself if a slot is free;
- starts the oldest queued runs while fewer than the configured maximum are in progress, each in a
  child it forks (so a run starts at once, in its own session, at a low CPU priority);
- notices a child's exit at once (SIGCHLD) and ends its run if the child could not (liveness.py);
- every POLL_S also ends runs whose process is gone, stops runs canceled elsewhere (e.g. the Dagster
  UI) and starts runs queued by other processes.
The worker itself never runs Polars or DuckDB work and has one thread, so forking it is safe
(children.py). Protocol: one JSON request per stdin line, one JSON reply per line on the stdout the
worker was started with.
"""

from __future__ import annotations

import importlib
import json
import os
import selectors
import signal
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from just_dna_pipelines import startup_gc
from just_dna_pipelines.runs import deferred_alembic
from just_dna_pipelines.runs.children import create_accepted, creator_child, run_child
from just_dna_pipelines.runs.homes import Home

POLL_S = 1.0
# What runs import where it is used (kept out of the definitions so a command-line run loads only what it
# needs): the worker imports it before forking, so no run pays for it.
RUN_TIME_MODULES = (
    "just_dna_pipelines.annotation.engine_polars",
    "just_dna_pipelines.annotation.engine_duckdb",
    "just_dna_pipelines.ensembl.annotate",
    "just_dna_pipelines.ensembl.engine_polars",
    "just_dna_pipelines.ensembl.engine_duckdb",
    "just_dna_pipelines.ensembl.vcf_writer",
    "just_dna_pipelines.io.vcf_bcf",
    "just_dna_pipelines.io.vcf_count",
    "just_dna_pipelines.io.vcf_index",
    "just_dna_pipelines.io.vcf_normalize",
    "just_dna_pipelines.io.vcf_records",
    "just_dna_pipelines.io.vcf_site_scan",
    "just_dna_pipelines.report.build",
    "just_dna_pipelines.report.render",
)
ORPHANED_AFTER_S = 60.0  # an accepted run is created within seconds, unless its worker died


def _first_load_in_a_child() -> None:
    """Let a short-lived child load the definitions first, so the first-time work that loading may do
    (writing the demo modules, reading module tables: Polars) happens there and is cached on disk.

    Polars' thread pool, once used in a process, never works in a child forked from it: the child's
    first query waits forever. This worker forks every run, so it must never run Polars work itself.
    """
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            from just_dna_pipelines.definitions import defs

            defs.resolve_job_def("annotate_and_report_job")
            code = 0
        finally:
            os._exit(code)
    os.waitpid(pid, 0)


def _warm_up() -> None:
    """Import everything a run needs (definitions, storage, execution) without running anything."""
    from dagster._core.execution import api  # noqa: F401

    _first_load_in_a_child()
    from just_dna_pipelines.definitions import defs
    from just_dna_pipelines.runs import cancel, liveness, queue  # noqa: F401

    for name in ("annotate_and_report_job", "annotate_with_hf_modules_job"):
        defs.resolve_job_def(name)
    for module in RUN_TIME_MODULES:
        importlib.import_module(module)
    from just_dna_pipelines.bam.native import native_library
    from just_dna_pipelines.report.render import report_template
    from just_dna_pipelines.runs.sqlite_pool import run_database_template

    report_template()
    run_database_template()  # each run's event database is then written from it
    native_library()  # the compiled scanners and libdeflate, loaded once


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
        # dagster.yaml names the variable; it is read when the instance opens
        if "DAGSTER_POSTGRES_URL" in env:
            os.environ["DAGSTER_POSTGRES_URL"] = env["DAGSTER_POSTGRES_URL"]
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
        from just_dna_pipelines.io.file_lock import file_lock
        from just_dna_pipelines.runs import tags
        from just_dna_pipelines.runs.config import RunRequest
        from just_dna_pipelines.runs.instance import instance_for
        from just_dna_pipelines.runs.liveness import check_run
        from just_dna_pipelines.runs.pending import add_pending, pending_of, read_pending
        from just_dna_pipelines.runs.queue import IN_PROGRESS, SAMPLE_BUSY, SAMPLE_GONE, WAITING, runs_lock
        from just_dna_pipelines.runs.sample_claim import sample_claimed

        home = self.serve(message["env"])
        instance = instance_for(home.path)
        request = RunRequest(**message["request"])
        run_id = message["run_id"]
        filters = dg.RunsFilter(statuses=WAITING + IN_PROGRESS, tags={tags.PARTITION: request.partition_key})
        for run in instance.get_runs(filters=filters):
            check_run(instance, run, home.output_dir)  # a dead run does not block a new one
        with file_lock(runs_lock(instance)):
            if instance.get_run_by_id(run_id) is not None or read_pending(home.path, run_id) is not None:
                return home  # a retried request: accepted already
            if not Path(request.vcf_path).exists():
                # Its sample was deleted after the Run click was checked (the deletion removes the upload before
                # it looks for accepted runs a last time): accepted now, the run would outlive the deletion.
                raise PipelineError(SAMPLE_GONE)
            accepted = [e for e in pending_of(home.path, request.partition_key) if not e["error"]]
            busy = accepted or instance.get_runs(filters=filters, limit=1)
            if busy or sample_claimed(instance, request.partition_key):  # a command's run of it
                raise PipelineError(SAMPLE_BUSY)
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
            create_accepted(home, message)
            self._guarded(home, self.dispatch, home)
            return
        if pid == 0:
            creator_child(home, message, worker_pid, _reply_fd)
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
            run_child(home, run_id, _reply_fd)
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
    startup_gc.pause()
    deferred_alembic.install()  # loaded only if a home it serves must be created or migrated
    _warm_up()
    startup_gc.settle(collect=True)  # the runs it forks never walk (nor copy) the warm-up's objects
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

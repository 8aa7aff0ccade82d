"""A warm run worker: one long-lived process with Dagster and the definitions already imported.

Starting a fresh Python for each run costs seconds of imports before any work happens. The worker
imports once, then forks a child per run request (read as JSON lines on stdin), so a run starts in
milliseconds. The worker itself never runs Polars or DuckDB work, so forking it is safe; the children
open their own instance connections.
"""

from __future__ import annotations

import json
import os
import signal
import sys

from just_dna_pipelines.runs.config import RunRequest


def _warm_up() -> None:
    """Import everything a run needs (definitions, instance storage) without running anything."""
    import dagster as dg

    from just_dna_pipelines.definitions import defs
    from just_dna_pipelines.runs.instance import ensure_dagster_home

    ensure_dagster_home()
    for name in ("annotate_and_report_job", "annotate_with_hf_modules_job"):
        defs.resolve_job_def(name)
    dg.DagsterInstance.get().dispose()


def _run_child(line: str) -> None:
    """In the forked child: execute one request and exit without returning to the loop."""
    code = 1
    try:
        from just_dna_pipelines.runs.execute import execute_run

        message = json.loads(line)
        # The request carries the caller's configuration, so one worker serves whatever folders it names.
        os.environ.update(message.get("env", {}))
        from just_dna_pipelines.settings import get_settings

        get_settings.cache_clear()
        result = execute_run(RunRequest(**message["request"]), run_id=message["run_id"])
        code = 0 if result.success else 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    """Warm up, say "ready", then fork a child for every request line until stdin closes."""
    log_path = sys.argv[1] if len(sys.argv) > 1 else os.devnull
    _warm_up()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    os.nice(10)  # runs (forked from here) yield the CPU to the web server on small machines
    print("ready", flush=True)
    # From now on nobody reads our stdout: send it and stderr to the log, so a full pipe never blocks us.
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    for line in sys.stdin:
        if not line.strip():
            continue
        if os.fork() == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.setsid()
            _run_child(line)


if __name__ == "__main__":
    main()

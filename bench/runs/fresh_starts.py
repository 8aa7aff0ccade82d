"""How often does a first start on a fresh folder damage the Dagster storage? Before and after preparing it.

    uv run python bench/runs/fresh_starts.py --starts 20            # as the launcher starts things now
    uv run python bench/runs/fresh_starts.py --starts 20 --before   # as before: nothing prepared, the app
                                                                    # opening the instance unlocked as it did

Each start: a fresh folder; the launcher's preparation (unless --before); the Dagster webserver and daemon
and an app-side process started at the same moment (the app side warms the run worker and runs the demo
sample; with --before it opens the instance the old way, DagsterInstance.get()). Then it waits until the
webserver answers and checks: one alembic revision per storage database, the daemon still up, the app
side done. Prints one line per start and a summary.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from folders import use_fresh_folders  # bench/runs/folders.py (scripts run from their folder)

from webui.harness import FIRST_START_APP_SIDE

APP_BEFORE = """
import dagster as dg
instance = dg.DagsterInstance.get()
instance.get_runs()
instance.add_dynamic_partitions("user_vcf_files", ["alice/demo_sample"])
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _webserver_up(port: int) -> bool:
    body = json.dumps({"query": "{ version }"}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", body, {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5):
            return True
    except OSError:
        return False


def one_start(root: Path, before: bool) -> dict[str, object]:
    """One fresh start; what was found."""
    from just_dna_pipelines.runs import instance
    from just_dna_pipelines.runs.storage_check import known_revisions, storage_revisions
    from just_dna_pipelines.settings import get_settings
    from webui import launcher

    use_fresh_folders(root)
    get_settings.cache_clear()
    instance._instances.clear()
    home = instance.ensure_dagster_home() if before else launcher._dagster_home()
    env = launcher._base_env(home)
    port = _free_port()
    started = time.monotonic()
    procs = launcher._start_dagster("127.0.0.1", port, env, root / "logs")
    procs["app"] = launcher._spawn(
        "app", [sys.executable, "-c", APP_BEFORE if before else FIRST_START_APP_SIDE], env, root / "logs"
    )
    try:
        while time.monotonic() - started < 120 and (procs["app"].poll() is None or not _webserver_up(port)):
            if procs["dagster-daemon"].poll() is not None:
                break
            time.sleep(0.2)
        time.sleep(2)  # the daemon opens every storage in its first loop; let a damaged one fail it
        head, _ = known_revisions()
        revisions = storage_revisions(home)
        return {
            "damaged": sorted(db for db, rows in revisions.items() if rows != [head]),
            "daemon_exited": procs["dagster-daemon"].poll() is not None,
            "app_failed": procs["app"].poll() != 0,
            "seconds": round(time.monotonic() - started, 1),
        }
    finally:
        launcher._stop(procs)


def main() -> None:
    """Run the starts and print the findings."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--starts", type=int, default=10)
    parser.add_argument("--before", action="store_true", help="nothing prepared; the app opens unlocked")
    args = parser.parse_args()
    bad = 0
    with tempfile.TemporaryDirectory(prefix="fresh-starts-") as tmp:
        for attempt in range(args.starts):
            found = one_start(Path(tmp) / f"start{attempt}", args.before)
            bad += bool(found["damaged"] or found["daemon_exited"] or found["app_failed"])
            print(attempt, found, flush=True)
    label = "before (nothing prepared)" if args.before else "now (prepared under a lock)"
    print(
        f"{label}: {bad} of {args.starts} fresh starts damaged the storage or lost a service (load {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()

"""How the service's runs are launched, by JUST_DNA_RUN_MODE: "local" queues them with the warm run worker
(runs.worker), which starts them; "queue" submits them to Dagster's own queue (runs.dagster_queue), whose
daemon launches them with the configured run launcher.

This module is the one place that knows how a run gets launched; the service calls `submit` and `warm_up`
and reads runs from the instance the same way in both modes (cancel.py tells the two kinds of run apart).
"""

from __future__ import annotations

import contextlib
import json
import select
import subprocess
import sys
import threading
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from just_dna_pipelines.errors import PipelineError
from just_dna_pipelines.runs.config import RunRequest
from just_dna_pipelines.runs.instance import ensure_dagster_home
from just_dna_pipelines.settings import get_settings

READY_TIMEOUT_S = 120
REPLY_TIMEOUT_S = 120  # a first request on a fresh DAGSTER_HOME creates its storage


class WarmWorker:
    """The parent side of `runs.worker`: start it once, send it requests, restart it if it died."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def _log_path(self) -> Path:
        folder = ensure_dagster_home() / "run-logs"
        folder.mkdir(exist_ok=True)
        return folder / "worker.log"

    def _start(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "just_dna_pipelines.runs.worker", str(self._log_path())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            self._read_reply(process, READY_TIMEOUT_S)
        except PipelineError:
            process.kill()
            process.wait()
            raise
        return process

    def _read_reply(self, process: subprocess.Popen[bytes], timeout: float) -> dict[str, Any]:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], timeout)
        line = process.stdout.readline() if ready else b""
        if not line:
            raise PipelineError(f"the run worker stopped answering (its log: {self._log_path()})")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send one request and return the worker's reply, (re)starting the worker when needed."""
        with self._lock:
            for attempt in range(2):
                try:
                    if self._process is None or self._process.poll() is not None:
                        self._process = self._start()
                    assert self._process.stdin is not None
                    self._process.stdin.write(json.dumps(message).encode() + b"\n")
                    self._process.stdin.flush()
                    return self._read_reply(self._process, REPLY_TIMEOUT_S)
                except (OSError, PipelineError):
                    # A worker that died mid-request is restarted once; requests are safe to repeat.
                    self._stop_locked()
                    if attempt == 1:
                        raise
            raise AssertionError("unreachable")

    def pid(self) -> int | None:
        """The worker's process id while it runs."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def stop(self) -> None:
        """Close the worker's input; it exits (runs it started go on in their own processes)."""
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        if self._process is not None:
            if self._process.stdin is not None:
                with contextlib.suppress(OSError):
                    self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None


def configuration_env() -> dict[str, str]:
    """The caller's settings as environment variables: the worker serves each home with its caller's settings."""
    settings = get_settings()
    env = {
        "DAGSTER_HOME": str(settings.dagster_home.resolve()),
        "JUST_DNA_PIPELINES_OUTPUT_DIR": str(settings.output_dir),
        "JUST_DNA_PIPELINES_INPUT_DIR": str(settings.input_dir),
        "JUST_DNA_PIPELINES_CACHE_DIR": str(settings.cache_dir),
        "JUST_DNA_PIPELINES_MODULES_SOURCE": settings.modules_source,
        "JUST_DNA_PIPELINES_MAX_CONCURRENT_RUNS": str(settings.max_concurrent_runs),
        "HF_ENDPOINT": settings.hf_endpoint,
        "HF_HUB_OFFLINE": "1" if settings.hf_offline else "0",
    }
    if settings.dagster_postgres_url:
        env["DAGSTER_POSTGRES_URL"] = settings.dagster_postgres_url  # the worker opens the instance with it
    if settings.hf_token:
        env["HF_TOKEN"] = settings.hf_token
    return env


_worker = WarmWorker()


def _ask(message: dict[str, Any]) -> None:
    reply = _worker.request({**message, "env": configuration_env()})
    if "error" in reply:
        raise PipelineError(reply["error"])


def warm_up() -> None:
    """Start the worker and have it serve this configuration's queue (ending runs a crash left behind);
    in "queue" mode, load the code server's definitions instead."""
    if get_settings().run_mode == "queue":
        from just_dna_pipelines.runs import dagster_queue
        from just_dna_pipelines.runs.instance import get_instance

        dagster_queue.warm_up(get_instance())
        return
    _ask({"op": "serve"})


def submit(request: RunRequest) -> str:
    """Queue a run; return its Dagster run id once the run exists (it starts when a slot is free)."""
    run_id = str(uuid.uuid4())
    if get_settings().run_mode == "queue":
        from just_dna_pipelines.runs import dagster_queue
        from just_dna_pipelines.runs.instance import get_instance

        return dagster_queue.submit(get_instance(), request, run_id)
    _ask({"op": "enqueue", "run_id": run_id, "request": asdict(request)})
    return run_id


def worker_pid() -> int | None:
    """The warm worker's process id, if it runs (for tests and priority adjustments)."""
    return _worker.pid()

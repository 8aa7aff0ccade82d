"""Launch runs in the background: through the warm worker when it is up, else a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import asdict
from pathlib import Path

from just_dna_pipelines.runs.config import RunRequest
from just_dna_pipelines.runs.instance import ensure_dagster_home
from just_dna_pipelines.settings import get_settings

READY_TIMEOUT_S = 120


class WarmWorker:
    """The parent side of `runs.worker`: start it once, send it requests, restart it if it died."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def _log_dir(self) -> Path:
        folder = ensure_dagster_home() / "run-logs"
        folder.mkdir(exist_ok=True)
        return folder

    def _start(self) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "just_dna_pipelines.runs.worker", str(self._log_dir() / "worker.log")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        assert process.stdout is not None
        ready = process.stdout.readline().strip()
        if ready != "ready":
            process.kill()
            raise RuntimeError("the run worker did not start")
        process.stdout.close()
        return process

    def ensure_started(self) -> None:
        """Start the worker if it is not running (blocks while it warms up, a few seconds)."""
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = self._start()

    def submit(self, run_id: str, request: RunRequest) -> None:
        """Hand a run to the worker; it forks a child for it at once."""
        self.ensure_started()
        with self._lock:
            assert self._process is not None and self._process.stdin is not None
            message = {"run_id": run_id, "request": asdict(request), "env": configuration_env()}
            self._process.stdin.write(json.dumps(message) + "\n")
            self._process.stdin.flush()

    def stop(self) -> None:
        """Close the worker's input; it exits once its current forks are started."""
        with self._lock:
            if self._process is not None and self._process.stdin is not None:
                self._process.stdin.close()
                self._process.wait(timeout=10)
            self._process = None


def configuration_env() -> dict[str, str]:
    """The caller's settings as environment variables, for a worker started under other settings."""
    settings = get_settings()
    env = {
        "DAGSTER_HOME": str(settings.dagster_home.resolve()),
        "JUST_DNA_PIPELINES_OUTPUT_DIR": str(settings.output_dir),
        "JUST_DNA_PIPELINES_INPUT_DIR": str(settings.input_dir),
        "JUST_DNA_PIPELINES_CACHE_DIR": str(settings.cache_dir),
        "JUST_DNA_PIPELINES_MODULES_SOURCE": settings.modules_source,
        "HF_ENDPOINT": settings.hf_endpoint,
        "HF_HUB_OFFLINE": "1" if settings.hf_offline else "0",
    }
    if settings.hf_token:
        env["HF_TOKEN"] = settings.hf_token
    return env


_worker = WarmWorker()


def warm_up() -> None:
    """Start the warm worker ahead of the first run (call from a background thread at app start)."""
    _worker.ensure_started()


def launch_in_background(run_id: str, request: RunRequest) -> None:
    """Run a request in another process; the caller follows it through the instance by run id."""
    try:
        _worker.submit(run_id, request)
    except (OSError, RuntimeError, ValueError):
        _launch_fresh_process(run_id, request)


def _launch_fresh_process(run_id: str, request: RunRequest) -> None:
    """The fallback: a one-off Python process for the run."""
    log_dir = ensure_dagster_home() / "run-logs"
    log_dir.mkdir(exist_ok=True)
    with (log_dir / f"{run_id}.log").open("wb") as log:
        subprocess.Popen(
            [
                sys.executable, "-m", "just_dna_pipelines.runs.execute",
                "--run-id", run_id, "--request", json.dumps(asdict(request)),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip

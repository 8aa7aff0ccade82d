"""Real PostgreSQL and real Dagster services (code server, daemon, webserver) for the run tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from webui.engines import PostgresServer, free_port, running_postgres

READY_TIMEOUT_S = 120


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session; each test creates its own database."""
    with running_postgres() as server:
        yield server


@dataclass
class DagsterServices:
    """Dagster's services started for a test, each in its own process group, logs in `log_dir`."""

    env: dict[str, str]
    log_dir: Path
    dagster_port: int
    procs: dict[str, subprocess.Popen[bytes]]

    def start(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("ab")
        proc = subprocess.Popen(command, env=self.env, stdout=log, stderr=log, start_new_session=True)
        self.procs[name] = proc
        return proc

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        proc.wait(timeout=30)

    def stop(self) -> None:
        for name in list(self.procs):
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.kill(name, signal.SIGTERM)
        for name in list(self.procs):
            self.kill(name)

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def graphql(self, query: str) -> dict:
        """POST a query to the webserver's GraphQL API."""
        import json

        body = json.dumps({"query": query}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.dagster_port}/graphql", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def wait_for_webserver(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{self.dagster_port}/server_info", timeout=2)
                return
            time.sleep(0.5)
        raise AssertionError(f"the webserver did not start:\n{self.log('dagster-webserver')[-3000:]}")


def use_postgres(postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh database for Dagster's storage, configured through DAGSTER_POSTGRES_URL; its URL."""
    from just_dna_pipelines.settings import get_settings

    url = postgres.create_database(f"dagster_{uuid.uuid4().hex[:12]}")
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", url)
    get_settings.cache_clear()
    return url


@contextlib.contextmanager
def dagster_services(tmp_path: Path, names: tuple[str, ...]) -> Iterator[DagsterServices]:
    """Start the named services of the configured run mode (as `start` does) on a prepared instance; stop them after."""
    from just_dna_pipelines.runs.dagster_config import dagster_service_commands
    from just_dna_pipelines.runs.instance import prepare_instance
    from just_dna_pipelines.settings import get_settings

    prepare_instance()
    log_dir = tmp_path / "service-logs"
    log_dir.mkdir(exist_ok=True)
    port = free_port()
    commands = dagster_service_commands(get_settings(), "127.0.0.1", port, Path(sys.executable).parent)
    services = DagsterServices(dict(os.environ), log_dir, port, {})
    try:
        for name in names:
            services.start(name, commands[name])
            if name == "dagster-code-server":
                from just_dna_pipelines.runs.launcher import warm_up

                warm_up()  # the daemon loads the workspace once it starts: the code server must answer by then
        yield services
    finally:
        services.stop()

"""The whole scale-out stack killed mid-run (a power cut): `start --prod` with two backend workers on PostgreSQL
accounts and Redis state, JUST_DNA_RUN_MODE=queue with Dagster's storage on PostgreSQL and Dagster's services
(code server, daemon with the DefaultRunLauncher, webserver). Every process group of it (launcher, web app and its
workers, code server, daemon, webserver, the run's process) gets SIGKILL while a run is in its steps; the stack
is started again on the same folders and databases. Users, samples and the earlier report are intact; the killed
run reads failed with a clear reason; nothing half-written is left; a rerun succeeds."""

from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest

from webui.harness import MARKER, kill_stack, running_app

from .test_scaleout_browser import queue_mode_env

# The waits below add up to ~12 min on a slow, loaded machine; the test takes ~100 s on a quiet one.
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture
def stack_env(app_env, postgres_server, redis_server, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The scale-out set-up's environment, also applied to this process (it signs up and submits like the app)."""
    import redis

    from just_dna_pipelines.settings import get_settings
    from webui.config import get_web_settings

    with redis.Redis.from_url(redis_server.url) as client:
        client.flushall()
    env = {
        **app_env,
        "DATABASE_URL": postgres_server.create_database("faults"),
        "REDIS_URL": redis_server.url,
        "JUST_DNA_WEBUI_WORKERS": "2",
        "JUST_DNA_PIPELINES_MODULES_SOURCE": "demo",
        **queue_mode_env(postgres_server, "faults_dagster"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    get_web_settings.cache_clear()
    yield env
    from webui.db import _engine_for, get_engine

    if _engine_for.cache_info().currsize:
        get_engine().dispose()
    _engine_for.cache_clear()
    get_web_settings.cache_clear()


def _finished(run_id: str):
    from just_dna_pipelines import service

    info = service.get_run(run_id)
    return info if info.finished else None


def _marked(marker: str) -> list[int]:
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.environ().get(MARKER) == marker:
                found.append(proc.pid)
        except psutil.Error:
            pass
    return found


def test_the_whole_stack_killed_mid_run_restarts_with_everything_intact(
    stack_env, pipeline_env, long_vcf: Path, add_sample, wait_until, tmp_path: Path
) -> None:
    from just_dna_pipelines import service
    from just_dna_pipelines.modules.demo import ensure_demo_sample
    from just_dna_pipelines.runs.events import DEAD_MESSAGE
    from webui.services import accounts

    started = time.monotonic()
    with running_app(stack_env, tmp_path / "app-1.log", prod=True, dagster=True) as first:
        up_s = time.monotonic() - started
        accounts.sign_up("alice", "correct horse battery")
        add_sample("alice", ensure_demo_sample(tmp_path / "demo"), "demo")
        add_sample("alice", long_vcf, "long")
        service.warm_up()
        earlier = service.launch_run("alice", "demo", ["longevitymap"])
        assert wait_until(lambda: _finished(earlier), "the earlier run", timeout=180).status == "success"
        report = service.report_path("alice", "demo")
        assert report is not None
        report_bytes = report.read_bytes()

        killed = service.launch_run("alice", "long", ["longevitymap"])
        wait_until(
            lambda: any(e.kind == "step_start" for e in service.run_events(killed)),
            "the long run to be in its steps",
            timeout=180,
        )
        assert service.get_run(killed).status == "running"
        processes = kill_stack(first)
        time.sleep(1)
        assert _marked(first.marker) == [], "a process of the stack survived kill -9"
    assert processes >= 5  # launcher, web app, code server, daemon, webserver, the run: all went

    restarted = time.monotonic()
    with running_app(stack_env, tmp_path / "app-2.log", prod=True, dagster=True):
        restart_s = time.monotonic() - restarted
        # Users and samples are in PostgreSQL and the data root; the earlier report is untouched.
        assert accounts.log_in("alice", "correct horse battery").name == "alice"
        assert service.report_path("alice", "demo") is not None
        assert service.report_path("alice", "demo").read_bytes() == report_bytes
        assert service.get_run(earlier).status == "success"
        # The killed run is failed with the reason a user can act on, and left nothing half-written.
        failed = wait_until(lambda: _finished(killed), "the killed run to read failed", timeout=90)
        assert failed.status == "failure" and failed.error == DEAD_MESSAGE, failed
        assert service.report_path("alice", "long") is None
        staging = pipeline_env.output_dir / ".staging"
        assert not staging.is_dir() or not any(staging.iterdir()), list(staging.rglob("*"))
        rerun = service.launch_run("alice", "long", ["longevitymap"])
        assert wait_until(lambda: _finished(rerun), "the rerun", timeout=240).status == "success"
        assert service.report_path("alice", "long") is not None
    print(
        f"\nwhole-stack kill: first start {up_s:.0f} s, restart {restart_s:.0f} s, "
        f"{processes} processes killed, total {time.monotonic() - started:.0f} s"
    )

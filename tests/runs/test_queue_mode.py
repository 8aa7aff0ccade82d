"""JUST_DNA_RUN_MODE=queue end to end: Dagster storage on a real PostgreSQL, a real gRPC code server and
dagster-daemon with the DefaultRunLauncher; the service API (launch, status, position, events, cancel,
report) behaves as in local mode. Faults: the run's process and the daemon killed mid-run."""

from __future__ import annotations

import contextlib
import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psutil
import pytest

from just_dna_pipelines import service
from just_dna_pipelines.modules.demo import ensure_demo_sample
from just_dna_pipelines.runs.events import DEAD_MESSAGE
from just_dna_pipelines.runs.instance import get_instance
from just_dna_pipelines.settings import get_settings
from tests.sample_folders import folder_bytes, rerun_with_another_genome, staging_left

from .conftest import DagsterServices, dagster_services, use_postgres

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]
SERVICES = ("dagster-code-server", "dagster-daemon")


@pytest.fixture
def demo_vcf(tmp_path: Path) -> Path:
    return ensure_demo_sample(tmp_path / "demo")


@pytest.fixture
def queue_env(
    demo_env, postgres, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[DagsterServices]:
    """Queue mode on PostgreSQL with two slots, one run per user; code server and daemon running."""
    from webui.engines import free_port

    use_postgres(postgres, monkeypatch)
    monkeypatch.setenv("JUST_DNA_RUN_MODE", "queue")
    monkeypatch.setenv("JUST_DNA_PIPELINES_MAX_CONCURRENT_RUNS", "2")
    monkeypatch.setenv("JUST_DNA_PIPELINES_MAX_RUNS_PER_USER", "1")
    monkeypatch.setenv("JUST_DNA_CODE_SERVER_PORT", str(free_port()))
    monkeypatch.setenv("JUST_DNA_PIPELINES_RUN_MONITORING_INTERVAL_S", "2")
    # Starting a run process loads the definitions (~25 s here when idle); two at once on a busy 2-core
    # machine pass Dagster's default 60 s gRPC deadline.
    monkeypatch.setenv("DAGSTER_GRPC_TIMEOUT_SECONDS", "300")
    get_settings.cache_clear()
    with dagster_services(tmp_path, SERVICES) as services:
        try:
            service.warm_up()  # what the web app does at start: waits for the code server
            yield services
        finally:
            for run in get_instance().get_runs():
                if not run.is_finished:
                    with contextlib.suppress(Exception):
                        service.cancel_run(run.run_id)


def _finished(run_id: str) -> service.RunInfo | None:
    info = service.get_run(run_id)
    return info if info.finished else None


def _outputs(user: str, sample: str) -> dict[str, bytes]:
    """The sample's module tables, by name (the report embeds a timestamp, so it is only checked to exist)."""
    files = service.sample_output_files(user, sample)
    return {name: path.read_bytes() for name, path in files.items() if name.endswith(".csv")}


def test_a_run_goes_through_dagsters_queue_and_matches_local_mode(
    queue_env: DagsterServices, demo_vcf: Path, add_sample, wait_until
) -> None:
    instance = get_instance()
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    add_sample("alice", demo_vcf, "demo")
    run_id = service.launch_run("alice", "demo", ["longevitymap", "vo2max"])
    first = service.get_run(run_id)
    assert first.status in {"queued", "starting", "running"}
    run = instance.get_run_by_id(run_id)
    assert (
        run is not None and run.tags["just-dna/user"] == "alice" and run.tags["just-dna/launcher"] == "queue"
    )
    info = wait_until(lambda: _finished(run_id), "the queued run", timeout=180)
    assert info.status == "success", info.error
    events = service.run_events(run_id)
    assert {e.kind for e in events} >= {"run_start", "step_success", "materialization", "run_success"}
    assert service.report_path("alice", "demo") is not None
    launched = [e.message for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)]
    assert any("Started process for run" in m for m in launched)  # by the code server, not in this process

    # The same request in local mode (the CLI's in-process run) writes the same module tables.
    from just_dna_pipelines.runs.config import RunRequest
    from just_dna_pipelines.runs.execute import execute_run

    add_sample("bob", demo_vcf, "demo")
    local = execute_run(
        RunRequest(
            partition_key="bob/demo",
            vcf_path=str(service.upload_path("bob", "demo.vcf")),
            modules=["longevitymap", "vo2max"],
            modules_source="demo",
        )
    )
    assert local.success
    queued_outputs = _outputs("alice", "demo")
    assert queued_outputs and queued_outputs == _outputs("bob", "demo")


def _why(run_id: str) -> list[str]:
    """Dagster's own messages about a run (engine events: launch, process, monitoring), for failure output."""
    return [e.user_message for e in get_instance().all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)]


def test_the_per_user_limit_holds_a_users_second_run_in_line_and_a_queued_run_cancels(
    queue_env: DagsterServices, demo_vcf: Path, add_sample, wait_until
) -> None:
    for user, sample in (("alice", "one"), ("alice", "two"), ("alice", "three"), ("bob", "one")):
        add_sample(user, demo_vcf, sample)
    # All four submitted within one of the daemon's looks at the queue (it is paused meanwhile): had it looked
    # between Alice's first and Bob's, her first (a second's work) could end before its next look, and then
    # her second and Bob's would leave the queue together, in submission order.
    daemon = queue_env.procs["dagster-daemon"].pid
    os.killpg(daemon, signal.SIGSTOP)
    try:
        first = service.launch_run("alice", "one", ["longevitymap"])
        second = service.launch_run("alice", "two", ["longevitymap"])
        third = service.launch_run("alice", "three", ["longevitymap"])
        other = service.launch_run("bob", "one", ["longevitymap"])
        waiting = service.get_run(second)
        assert waiting.status == "queued" and waiting.queue_position is not None, waiting
        service.cancel_run(third)
        assert service.get_run(third).status == "canceled"
    finally:
        os.killpg(daemon, signal.SIGCONT)
    # Two slots, one run per user: Alice's first and Bob's start; Alice's second waits for her first.
    for run_id in (first, second, other):
        done = wait_until(lambda run_id=run_id: _finished(run_id), f"run {run_id}", timeout=150)
        assert done.status == "success", (done.error, _why(run_id))
    records = {r.dagster_run.run_id: r for r in get_instance().get_run_records()}
    assert records[other].start_time < records[second].start_time  # Bob's, submitted later, went first
    assert records[second].start_time >= records[first].end_time  # Alice's second waited for her first
    assert service.report_path("alice", "three") is None


def _run_process(run_id: str, code_server: int) -> psutil.Process:
    """The process executing a run: the pid Dagster logs, else the code server's spawned child running it."""
    for entry in get_instance().all_logs(run_id):
        if match := re.search(r"Started process for run \(pid: (\d+)\)", entry.user_message or ""):
            return psutil.Process(int(match.group(1)))
    spawned = [
        p
        for p in psutil.Process(code_server).children(recursive=True)
        if "spawn_main" in " ".join(p.cmdline()) and "resource_tracker" not in " ".join(p.cmdline())
    ]
    assert len(spawned) == 1, [p.cmdline() for p in spawned]
    return spawned[0]


def test_a_run_killed_with_the_daemon_is_failed_and_a_rerun_succeeds(
    queue_env: DagsterServices, long_vcf: Path, add_sample, wait_until, demo_env
) -> None:
    add_sample("carol", long_vcf, "long")
    run_id = service.launch_run("carol", "long", ["longevitymap"])
    wait_until(lambda: service.get_run(run_id).status == "running", "the run to be running", timeout=120)
    wait_until(lambda: any(e.kind == "step_start" for e in service.run_events(run_id)), "a step to start")
    process = _run_process(run_id, queue_env.procs["dagster-code-server"].pid)
    os.kill(process.pid, signal.SIGKILL)
    queue_env.kill("dagster-daemon")
    from just_dna_pipelines.runs.dagster_config import dagster_service_commands

    commands = dagster_service_commands(
        get_settings(), "127.0.0.1", queue_env.dagster_port, Path(os.sys.executable).parent
    )
    queue_env.start("dagster-daemon", commands["dagster-daemon"])
    failed = wait_until(lambda: _finished(run_id), "the killed run to be failed", timeout=60)
    said = [e.dagster_event.message for e in get_instance().all_logs(run_id) if e.dagster_event][-4:]
    assert failed.status == "failure" and failed.error == DEAD_MESSAGE, said
    assert service.report_path("carol", "long") is None
    staging = demo_env.output_dir / ".staging"
    assert not staging.is_dir() or not any(staging.iterdir())
    rerun = service.launch_run("carol", "long", ["longevitymap"])
    assert wait_until(lambda: _finished(rerun), "the rerun", timeout=170).status == "success"
    assert service.report_path("carol", "long") is not None


def test_a_queued_rerun_canceled_part_way_leaves_the_previous_results_as_they_were(
    queue_env: DagsterServices, demo_vcf: Path, long_vcf: Path, add_sample, wait_until, demo_env
) -> None:
    """Runs of Dagster's queue published each output as made, so a re-run with another genome canceled part-way
    left its source.json (and normalized table) beside the previous genome's module results and report."""
    rerun, folder, before = rerun_with_another_genome(
        demo_env.output_dir, "dave", (demo_vcf, long_vcf), add_sample, wait_until
    )
    service.cancel_run(rerun)
    assert service.get_run(rerun).status == "canceled"
    assert folder_bytes(folder) == before
    assert not staging_left(demo_env.output_dir)


def test_a_queued_rerun_killed_part_way_has_the_previous_results_put_back(
    queue_env: DagsterServices, demo_vcf: Path, long_vcf: Path, add_sample, wait_until, demo_env
) -> None:
    """A queued re-run's process killed outright is failed by Dagster; the first of ours to see it ended puts back
    what the run had kept (before: its new genome's source.json stayed beside the old results)."""
    rerun, folder, before = rerun_with_another_genome(
        demo_env.output_dir, "frank", (demo_vcf, long_vcf), add_sample, wait_until
    )
    os.kill(_run_process(rerun, queue_env.procs["dagster-code-server"].pid).pid, signal.SIGKILL)
    ended = wait_until(lambda: _finished(rerun), "the killed run to be failed", timeout=120)
    assert ended.status == "failure"
    assert folder_bytes(folder) == before
    assert not staging_left(demo_env.output_dir)

"""Runs through the service: a queue with a cap, positions and estimates, cancel, dead runs, deletion mid-run.

Every test runs the real warm worker on the demo modules with one slot (demo_env). A run over `long_vcf`
takes seconds, so it holds the slot while the test looks at the queue behind it, cancels it or kills it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import dagster as dg
import psutil
import pytest

from just_dna_pipelines import service
from just_dna_pipelines.errors import PipelineError
from just_dna_pipelines.modules.demo import ensure_demo_sample
from just_dna_pipelines.runs import tags
from just_dna_pipelines.runs.events import DEAD_MESSAGE
from just_dna_pipelines.runs.instance import get_instance
from just_dna_pipelines.runs.launcher import worker_pid
from tests.held_claims import claim_let_go_after
from tests.sample_folders import folder_bytes, rerun_with_another_genome, staging_left

pytestmark = pytest.mark.slow


@pytest.fixture
def demo_vcf(tmp_path: Path) -> Path:
    return ensure_demo_sample(tmp_path / "demo")


def _status(run_id: str) -> str:
    return service.get_run(run_id).status


def _running(run_id: str, wait_until) -> dg.DagsterRun:
    """Wait until a run's own process runs it; return its Dagster run (tags name the process)."""
    wait_until(lambda: _status(run_id) == "running", f"run {run_id} to be running")
    run = get_instance().get_run_by_id(run_id)
    assert run is not None and run.tags[tags.PROCESS] == "run"
    return run


def _long_run(user: str, long_vcf: Path, add_sample, wait_until) -> tuple[str, dg.DagsterRun]:
    """Launch a run over the long VCF as `user`'s sample "long" and wait until its process runs it."""
    add_sample(user, long_vcf, "long")
    run_id = service.launch_run(user, "long", ["longevitymap"])
    return run_id, _running(run_id, wait_until)


def _process_gone(run: dg.DagsterRun) -> bool:
    return tags.responsible_process_alive(run.tags) is False


def _finished(run_id: str) -> service.RunInfo | None:
    info = service.get_run(run_id)
    return info if info.finished else None


def test_runs_queue_behind_the_cap_with_position_and_estimate_and_cancel(
    demo_env, long_vcf, demo_vcf, add_sample, wait_until
) -> None:
    add_sample("zoe", demo_vcf, "demo")
    first = service.launch_run("zoe", "demo", ["longevitymap"])
    assert wait_until(lambda: _finished(first), "the first run").status == "success"  # gives a duration

    held, held_run = _long_run("alice", long_vcf, add_sample, wait_until)
    for user in ("bob", "carol"):
        add_sample(user, demo_vcf, "demo")
    second = service.launch_run("bob", "demo", ["longevitymap"])
    third = service.launch_run("carol", "demo", ["vo2max"])

    one, two = service.get_run(second), service.get_run(third)
    assert (one.status, one.queue_position, two.status, two.queue_position) == ("queued", 1, "queued", 2)
    assert one.estimated_start_s is not None and two.estimated_start_s is not None
    assert two.estimated_start_s > one.estimated_start_s >= 0
    assert [r.queue_position for r in service.sample_runs("carol", "demo")] == [2]
    in_dagster = wait_until(lambda: get_instance().get_run_by_id(second), "the run to be created in Dagster")
    assert in_dagster.status == dg.DagsterRunStatus.QUEUED  # so it shows queued in the Dagster UI
    assert _status(held) == "running"  # all of the above was seen while the held run had the only slot

    service.cancel_run(third)
    assert (service.get_run(third).status, service.get_run(second).queue_position) == ("canceled", 1)
    with pytest.raises(PipelineError, match="already finished"):
        service.cancel_run(third)

    service.cancel_run(held)  # returns once its process has stopped
    assert _status(held) == "canceled" and _process_gone(held_run)
    assert not (demo_env.output_dir / ".staging" / held).exists()
    done = wait_until(lambda: _finished(second), "the queued run")
    assert done.status == "success"
    assert done.started_at >= service.get_run(held).ended_at  # one slot: never two at once

    again = service.launch_run("carol", "demo", ["vo2max"])  # a canceled run can be run again
    assert wait_until(lambda: _finished(again), "the rerun").status == "success"


def test_queue_places_move_at_once_when_the_queue_changes(
    demo_env, long_vcf, demo_vcf, add_sample, wait_until
) -> None:
    """Places are reused for a moment between pages (positions.MAX_AGE_S) but never across a change of the queue."""
    held, _ = _long_run("alice", long_vcf, add_sample, wait_until)
    for user in ("bob", "carol"):
        add_sample(user, demo_vcf, "demo")
    second = service.launch_run("bob", "demo", ["longevitymap"])
    assert service.get_run(second).queue_position == 1
    third = service.launch_run("carol", "demo", ["vo2max"])
    assert [service.get_run(run).queue_position for run in (second, third)] == [1, 2]
    for run in (second, third):
        wait_until(lambda run=run: get_instance().get_run_by_id(run), "the runs to be created in Dagster")
    assert [service.get_run(run).queue_position for run in (second, third)] == [1, 2]

    service.cancel_run(second)  # the first in line leaves: the next one is first at once, not a moment later
    assert (
        service.get_run(third).queue_position,
        service.sample_runs("carol", "demo")[0].queue_position,
    ) == (1, 1)
    assert _status(held) == "running"  # all of it while the long run held the only slot
    service.cancel_run(held)
    assert wait_until(lambda: _finished(third), "the last run").status == "success"
    assert service.get_run(third).queue_position is None


def test_a_second_run_of_a_sample_in_progress_is_refused(demo_env, long_vcf, add_sample, wait_until) -> None:
    add_sample("alice", long_vcf, "long")
    run_id = service.launch_run("alice", "long", ["longevitymap"])
    with pytest.raises(PipelineError, match="already has a run queued or running"):
        service.launch_run("alice", "long", ["vo2max"])
    service.cancel_run(run_id)


def test_a_web_launch_is_refused_while_a_command_runs_the_sample(demo_env, demo_vcf, add_sample) -> None:
    """A command's run exists in Dagster only once it starts; the web launch looks at the command's claim."""
    from just_dna_pipelines.runs.sample_claim import claim_sample

    add_sample("alice", demo_vcf, "demo")
    held = claim_sample(get_instance(), "alice/demo")  # a command running it, its run not created yet
    with held, pytest.raises(PipelineError, match="already has a run queued or running"):
        service.launch_run("alice", "demo", ["longevitymap"])
    run_id = service.launch_run("alice", "demo", ["longevitymap"])  # the command is done
    service.cancel_run(run_id)


def test_a_killed_run_is_failed_with_a_clear_reason_and_can_run_again(
    demo_env, long_vcf, add_sample, wait_until
) -> None:
    killed, run = _long_run("alice", long_vcf, add_sample, wait_until)
    os.killpg(int(run.tags[tags.PID]), signal.SIGKILL)
    info = wait_until(lambda: _finished(killed), "the killed run to be ended")
    assert (info.status, info.error) == ("failure", DEAD_MESSAGE)
    assert not (demo_env.output_dir / ".staging" / killed).exists()

    rerun = service.launch_run("alice", "long", ["longevitymap"])  # the slot is free, the sample not blocked
    _running(rerun, wait_until)
    service.cancel_run(rerun)


def test_runs_killed_with_the_worker_are_failed_after_restart_and_free_their_slots(
    demo_env, long_vcf, demo_vcf, add_sample, wait_until, monkeypatch
) -> None:
    from just_dna_pipelines.settings import get_settings

    monkeypatch.setenv("JUST_DNA_PIPELINES_MAX_CONCURRENT_RUNS", "2")
    get_settings.cache_clear()
    service.warm_up()
    runs = []
    for user in ("alice", "bob"):
        runs.append(_long_run(user, long_vcf, add_sample, wait_until)[1])
    worker = worker_pid()
    assert worker is not None
    os.kill(worker, signal.SIGKILL)  # the machine "crashes": the worker and both runs die at once
    for run in runs:
        os.killpg(int(run.tags[tags.PID]), signal.SIGKILL)
    wait_until(
        lambda: not psutil.pid_exists(worker) or psutil.Process(worker).status() == "zombie", "the worker"
    )
    wait_until(lambda: all(_process_gone(run) for run in runs), "the runs' processes")

    # Read back without any worker: the dead runs are failed, not "running".
    infos = [service.sample_runs(user, "long")[0] for user in ("alice", "bob")]
    assert [(i.status, i.error) for i in infos] == [("failure", DEAD_MESSAGE)] * 2
    add_sample("carol", demo_vcf, "demo")
    after = service.launch_run("carol", "demo", ["longevitymap"])  # a new worker; both slots are free
    assert wait_until(lambda: _finished(after), "a run after the restart").status == "success"


def _run_elsewhere(long_vcf: Path, run_tags: dict[str, str]) -> subprocess.Popen:
    """alice's "long" sample run in another process, not through the app: execute_in_process with `run_tags`."""
    script = (
        "from just_dna_pipelines.definitions import defs\n"
        "from just_dna_pipelines.runs.config import RunRequest\n"
        "from just_dna_pipelines.runs.instance import get_instance\n"
        f"r = RunRequest(partition_key='alice/long', vcf_path={str(long_vcf)!r}, modules_source='demo')\n"
        "defs.resolve_job_def(r.job_name).execute_in_process(run_config=r.run_config(), instance=get_instance(),"
        f" partition_key=r.partition_key, tags={run_tags!r}, raise_on_error=False)\n"
    )
    return subprocess.Popen([sys.executable, "-c", script], env=dict(os.environ), start_new_session=True)


def _started_run() -> dg.DagsterRun | None:
    return next(
        iter(get_instance().get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))), None
    )


def test_runs_of_an_earlier_version_left_running_are_failed_when_the_worker_starts(
    demo_env, long_vcf, add_sample, wait_until
) -> None:
    add_sample("alice", long_vcf, "long")
    # What the previous version did: execute_in_process tagged with the modules only (no process recorded).
    old = _run_elsewhere(long_vcf, {"just-dna/modules": "all"})
    try:
        legacy = wait_until(
            _started_run,
            "the old-style run to start",
        )
    finally:
        os.killpg(old.pid, signal.SIGKILL)
        old.wait()
    assert service.get_run(legacy.run_id).status == "running"  # no process recorded: cannot be told dead
    service.warm_up()  # a worker starting to serve this home (as after the upgrade's restart)
    info = service.get_run(legacy.run_id)
    assert (info.status, info.error) == ("failure", DEAD_MESSAGE)


def test_a_cancel_from_the_dagster_ui_stops_the_runs_process(
    demo_env, long_vcf, add_sample, wait_until
) -> None:
    run_id, run = _long_run("alice", long_vcf, add_sample, wait_until)
    get_instance().run_coordinator.cancel_run(run_id)  # what the UI's Terminate button calls
    assert wait_until(lambda: _finished(run_id), "the canceled run").status == "canceled"
    wait_until(lambda: _process_gone(run), "the run's process to stop")


def test_a_run_stopped_by_a_signal_says_so_in_one_line(demo_env, long_vcf, add_sample, wait_until) -> None:
    run_id, run = _long_run("alice", long_vcf, add_sample, wait_until)
    os.killpg(int(run.tags[tags.PID]), signal.SIGTERM)  # e.g. someone's `kill`: Dagster records a failure
    info = wait_until(lambda: _finished(run_id), "the stopped run")
    assert (info.status, info.error) == ("failure", DEAD_MESSAGE)


def test_deleting_a_sample_mid_run_stops_it_and_removes_its_staged_genotypes(
    demo_env, long_vcf, add_sample, wait_until
) -> None:
    add_sample("alice", long_vcf, "long")
    run_id = service.launch_run("alice", "long", ["longevitymap"])
    staging = demo_env.output_dir / ".staging" / run_id
    wait_until(lambda: staging.is_dir() and any(staging.rglob("*.parquet*")), "genotypes being staged")
    run = get_instance().get_run_by_id(run_id)
    assert run is not None

    deleted = service.delete_sample("alice", "long")
    assert f"canceled run {run_id}" in deleted
    assert any(d.startswith(f"unfinished files of run {run_id}") for d in deleted), deleted
    assert not staging.exists() and _process_gone(run)
    assert staging_left(demo_env.output_dir) == []
    with pytest.raises(KeyError):
        service.get_run(run_id)


def test_deleting_an_account_cancels_its_running_and_queued_runs(
    demo_env, long_vcf, demo_vcf, add_sample, wait_until
) -> None:
    add_sample("alice", demo_vcf, "demo")
    running, run = _long_run("alice", long_vcf, add_sample, wait_until)
    queued = service.launch_run("alice", "demo", ["longevitymap"])
    assert _status(queued) == "queued"

    deleted = service.delete_user("alice")
    assert {f"canceled run {running}", f"canceled run {queued}"} <= set(deleted)
    assert _process_gone(run)
    assert not (demo_env.input_dir / "users" / "alice").exists()
    assert not (demo_env.output_dir / "users" / "alice").exists()
    assert staging_left(demo_env.output_dir) == []
    assert get_instance().get_runs() == []


def test_a_run_canceled_right_after_launch_ends_canceled(demo_env, demo_vcf, add_sample) -> None:
    add_sample("alice", demo_vcf, "demo")
    run_id = service.launch_run("alice", "demo", ["longevitymap"])
    service.cancel_run(run_id)  # whether it was still being created, queued or already running
    assert service.get_run(run_id).status == "canceled"
    assert not any((demo_env.output_dir / ".staging").glob(f"{run_id}*"))


def test_a_run_started_outside_the_app_that_will_not_stop_is_not_called_canceled_nor_deleted_under(
    demo_env, long_vcf, add_sample, wait_until, monkeypatch
) -> None:
    """A run the drop-folder sensor (or the Dagster UI) started has no process of ours to stop. Cancel said
    "canceled" at once while it went on, and deleting its sample went ahead under it: a new upload of that name
    then got the old run's report."""
    from just_dna_pipelines.runs import dagster_queue

    add_sample("alice", long_vcf, "long")
    sensor_run = _run_elsewhere(long_vcf, {"source": "user_vcf_discovery_sensor"})
    try:
        run = wait_until(
            _started_run,
            "the sensor's run to start",
        )
        monkeypatch.setattr(dagster_queue, "CANCEL_TIMEOUT_S", 1.0)
        with pytest.raises(PipelineError, match="did not stop"):
            service.cancel_run(run.run_id)
        with pytest.raises(PipelineError, match="did not stop"):
            service.delete_sample("alice", "long")
        assert sensor_run.poll() is None  # it still runs, and its sample is still there
        assert [info.run_id for info in service.sample_runs("alice", "long")] == [run.run_id]
        assert any(p.name == "long.vcf" for p in service.user_vcf_files("alice"))
    finally:
        os.killpg(sensor_run.pid, signal.SIGKILL)
        sensor_run.wait()


def test_deleting_an_account_deletes_the_runs_of_samples_without_a_partition(
    demo_env, tmp_path: Path
) -> None:
    """A failed command forgets its sample's partition but keeps the failed run (for the Dagster UI): deleting the
    account looked at partitions only, and a new account of the same name saw that run and its error."""
    from just_dna_pipelines.runs.config import RunRequest
    from just_dna_pipelines.runs.execute import execute_run, forget_partition_if_unused

    bad = tmp_path / "bad.vcf"
    bad.write_text(
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\nnot a record\n"
    )
    request = RunRequest(partition_key="alice/bad", vcf_path=str(bad), modules_source="demo")
    assert not execute_run(request).success
    forget_partition_if_unused("alice/bad")
    assert not get_instance().has_dynamic_partition("user_vcf_files", "alice/bad")
    [failed] = service.sample_runs("alice", "bad")
    assert failed.status == "failure"
    logs = Path(get_instance().root_directory) / "storage" / failed.run_id
    assert any(logs.rglob("*.err")) or any(logs.rglob("*.out")), list(logs.rglob("*"))

    deleted = service.delete_user("alice")
    assert "1 run(s)" in deleted
    assert service.sample_runs("alice", "bad") == []
    assert not logs.exists()  # its captured output (sample names, paths) went with it


def test_a_run_launched_while_its_sample_is_deleted_goes_with_it(
    demo_env, demo_vcf, add_sample, monkeypatch
) -> None:
    """A Run click in another tab landing after the deletion read the sample's runs: its run stayed, and a new
    upload of that name showed it ("failed: file not found")."""
    add_sample("alice", demo_vcf, "s")
    listing = service.user_vcf_files
    launched: list[str] = []

    def click_run_meanwhile(user: str):
        if not launched:  # once, as the deletion is about to remove the upload
            launched.append("")
            launched[0] = service.launch_run("alice", "s", ["longevitymap"])
        return listing(user)

    monkeypatch.setattr(service, "user_vcf_files", click_run_meanwhile)
    service.delete_sample("alice", "s")
    assert launched[0]
    assert service.sample_runs("alice", "s") == []
    with pytest.raises(KeyError):
        service.get_run(launched[0])


def test_a_run_click_landing_after_its_upload_was_deleted_is_refused_and_leaves_nothing(
    demo_env, demo_vcf, add_sample, monkeypatch
) -> None:
    """A Run click checked just before its sample's deletion removed the upload reached the worker after the
    deletion's last look for runs: the run was queued for a sample that no longer existed, and its partition
    registered again (found by a security audit racing account deletion and a Run click)."""
    from just_dna_pipelines.runs.queue import SAMPLE_GONE

    add_sample("alice", demo_vcf, "s")
    register = service.register_sample

    def deleted_meanwhile(user: str, sample: str, path: Path) -> str:
        key = register(user, sample, path)
        path.unlink()  # the deletion removes the upload now
        return key

    monkeypatch.setattr(service, "register_sample", deleted_meanwhile)
    with pytest.raises(PipelineError, match=re.escape(SAMPLE_GONE)):
        service.launch_run("alice", "s", ["longevitymap"])
    assert service.sample_runs("alice", "s") == []
    assert not get_instance().has_dynamic_partition("user_vcf_files", "alice/s")


def test_a_web_run_canceled_part_way_leaves_the_previous_results_as_they_were(
    demo_env, demo_vcf, long_vcf, add_sample, wait_until
) -> None:
    """A re-run with another genome, canceled once it had published its first outputs, left the new genome's
    source.json beside the old genome's module results and report (a mixed folder the sample page then showed)."""
    rerun, folder, before = rerun_with_another_genome(
        demo_env.output_dir, "alice", (demo_vcf, long_vcf), add_sample, wait_until
    )
    service.cancel_run(rerun)
    assert service.get_run(rerun).status == "canceled"
    assert folder_bytes(folder) == before
    assert not staging_left(demo_env.output_dir)


def test_a_web_rerun_killed_part_way_has_the_previous_results_put_back_when_it_is_ended(
    demo_env, demo_vcf, long_vcf, add_sample, wait_until
) -> None:
    """A re-run's process killed outright (the OOM killer, kill -9) cannot put anything back itself: before, its new
    genome's source.json stayed beside the old results for good. Whoever ends the dead run puts them back."""
    rerun, folder, before = rerun_with_another_genome(
        demo_env.output_dir, "alice", (demo_vcf, long_vcf), add_sample, wait_until
    )
    run = get_instance().get_run_by_id(rerun)
    assert run is not None
    os.killpg(int(run.tags[tags.PID]), signal.SIGKILL)
    info = wait_until(lambda: _finished(rerun), "the killed run to be ended")
    assert (info.status, info.error) == ("failure", DEAD_MESSAGE)
    assert folder_bytes(folder) == before
    assert not staging_left(demo_env.output_dir)


def test_a_waiting_web_run_whose_sample_another_run_took_meanwhile_fails_and_leaves_its_results_alone(
    demo_env, long_vcf, demo_vcf, add_sample, wait_until
) -> None:
    """A run from the Dagster UI (the jobs' executor holds the sample's claim) may start while a web run of the same
    sample waits for a slot. When its turn came the web run ran beside it, without the claim: each kept the folder
    as it was and the one ending last put its copy back over the other's results. It is refused now."""
    from just_dna_pipelines.runs.queue import SAMPLE_BUSY
    from just_dna_pipelines.runs.sample_claim import sample_held

    add_sample("bob", demo_vcf, "demo")
    first = service.launch_run("bob", "demo", ["longevitymap"])
    assert wait_until(lambda: _finished(first), "the first run").status == "success"
    folder = demo_env.output_dir / "users" / "bob" / "demo"
    before = folder_bytes(folder)

    held, _ = _long_run("alice", long_vcf, add_sample, wait_until)
    waiting = service.launch_run("bob", "demo", ["longevitymap", "vo2max"])
    wait_until(lambda: get_instance().get_run_by_id(waiting), "the waiting run to be created in Dagster")
    assert service.get_run(waiting).status == "queued"
    with sample_held(get_instance(), "bob/demo"):  # a Dagster UI run of bob/demo going on
        service.cancel_run(held)  # the slot is free: the waiting run's turn
        info = wait_until(lambda: _finished(waiting), "the waiting run to end")
        assert (info.status, info.error) == ("failure", SAMPLE_BUSY)
        assert folder_bytes(folder) == before
    assert not staging_left(demo_env.output_dir)


def test_a_run_click_right_after_a_run_ended_waits_for_it_to_let_the_sample_go(
    demo_env, demo_vcf, add_sample, wait_until
) -> None:
    """A web run holds its sample until it has dropped or put back what it kept, a moment after its end is recorded:
    a Run click in that moment (the page shows the run ended) was refused with "already has a run" (2 of 8 clicks
    right after a run's end, in a reviewer's loop)."""
    add_sample("alice", demo_vcf, "demo")
    first = service.launch_run("alice", "demo", ["longevitymap"])
    assert wait_until(lambda: _finished(first), "the first run").status == "success"

    with claim_let_go_after(get_instance(), "alice/demo", 0.5):  # the ended run's process, a moment longer
        again = service.launch_run("alice", "demo", ["longevitymap", "vo2max"])
    assert wait_until(lambda: _finished(again), "the second run").status == "success"


def _functions_on(thread: threading.Thread) -> set[str]:
    """The names of the functions on a thread's stack now."""
    frame = sys._current_frames().get(thread.ident or 0)
    names = set()
    while frame is not None:
        names.add(frame.f_code.co_name)
        frame = frame.f_back
    return names


def test_a_run_click_waiting_for_a_sample_to_be_let_go_does_not_hold_up_other_clicks(
    demo_env, demo_vcf, add_sample, wait_until, monkeypatch
) -> None:
    """The wait for a just-ended run to let its sample go ran in the run worker, whose one loop answers every Run
    click: while one click waited, another person's click on another sample waited behind it (a reviewer measured
    5.8 s for three waiting clicks). It runs in the click's own thread now."""
    from just_dna_pipelines.runs import sample_claim

    # the waiting click waits until the test lets the sample go
    monkeypatch.setattr(sample_claim, "ENDED_RUN_RELEASE_S", 60.0)
    add_sample("alice", demo_vcf, "demo")
    add_sample("bob", demo_vcf, "demo")
    launched: list[str] = []

    def alice_clicks() -> None:
        launched.append(service.launch_run("alice", "demo", ["vo2max"]))

    with claim_let_go_after(get_instance(), "alice/demo", 60.0) as let_go:
        waiting = threading.Thread(target=alice_clicks)
        waiting.start()
        # once alice's click waits: for the sample here (or, as it did, for the worker's answer)
        wait_until(lambda: {"claim_released", "submit"} & _functions_on(waiting), "alice's click to wait")
        other = service.launch_run("bob", "demo", ["longevitymap"])  # answered while alice's click waits
        assert waiting.is_alive() and not launched
        let_go()
        waiting.join(60)
    assert len(launched) == 1
    for run_id in (other, launched[0]):
        assert wait_until(lambda run_id=run_id: _finished(run_id), "the two runs").status == "success"

"""The launcher's process handling: children in their own groups, stopped with everything they started."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
import yaml

from just_dna_pipelines.runs.dagster_config import CODE_LOCATION
from just_dna_pipelines.runs.instance import get_instance
from tests.held_runs import held_run, wait_for_pending_signal
from webui import launcher
from webui.harness import FIRST_START_APP_SIDE


def test_stop_ends_the_child_and_its_grandchildren(tmp_path):
    env = {**os.environ}
    proc = launcher._spawn("sleeper", ["bash", "-c", "sleep 300 & sleep 300 & wait"], env, tmp_path)
    time.sleep(0.5)
    family = [proc.pid, *(c.pid for c in psutil.Process(proc.pid).children(recursive=True))]
    assert len(family) == 3
    assert os.getpgid(proc.pid) == proc.pid != os.getpgid(0)  # its own process group
    launcher._stop({"sleeper": proc}, grace=5)
    time.sleep(0.2)
    alive = [
        pid
        for pid in family
        if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    ]
    assert alive == []
    assert (tmp_path / "sleeper.log").exists()


def test_stop_kills_what_ignores_sigterm(tmp_path):
    proc = launcher._spawn("stubborn", ["bash", "-c", "trap '' TERM; sleep 300"], {**os.environ}, tmp_path)
    time.sleep(0.3)
    started = time.monotonic()
    launcher._stop({"stubborn": proc}, grace=1)
    assert proc.poll() is not None
    assert time.monotonic() - started < 10


def test_flags_default_to_loopback_and_read_the_environment(monkeypatch):
    monkeypatch.setenv("JUST_DNA_FRONTEND_PORT", "4100")
    args = launcher._parser(with_web=True).parse_args([])
    assert args.host == "127.0.0.1"
    assert (args.frontend_port, args.backend_port, args.dagster_port) == (4100, 8000, 3030)
    assert not args.prod
    assert launcher._parser(with_web=True).parse_args(["--prod"]).prod


def test_dagster_commands_load_the_homes_workspace_from_one_code_server(monkeypatch, tmp_path):
    """Local mode too: the webserver and daemon share one code server (a daemon loading the module itself
    started a code server of its own and replaced it every minute)."""
    from just_dna_pipelines.runs.dagster_config import workspace_yaml
    from just_dna_pipelines.settings import get_settings

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("JUST_DNA_CODE_SERVER_PORT", "4999")
    get_settings.cache_clear()
    try:
        assert get_settings().run_mode == "local"
        cmds = launcher._dagster_cmds("127.0.0.1", 3999)
        workspace = yaml.safe_load(workspace_yaml(get_settings()))
    finally:
        get_settings.cache_clear()
    path = str(tmp_path.resolve() / "workspace.yaml")
    assert list(cmds) == ["dagster-code-server", "dagster-webserver", "dagster-daemon"]
    assert cmds["dagster-code-server"][-4:] == ["-h", "127.0.0.1", "-p", "4999"]
    assert cmds["dagster-webserver"][1:] == ["-w", path, "-h", "127.0.0.1", "-p", "3999"]
    assert cmds["dagster-daemon"][1:] == ["run", "-w", path]
    assert workspace["load_from"] == [
        {"grpc_server": {"host": "127.0.0.1", "port": 4999, "location_name": CODE_LOCATION}}
    ]
    assert subprocess.run([cmds["dagster-webserver"][0], "--help"], capture_output=True).returncode == 0


def test_a_taken_code_server_port_stops_the_launcher_with_one_line(monkeypatch, tmp_path, capsys):
    from just_dna_pipelines.settings import get_settings

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
        monkeypatch.setenv("JUST_DNA_CODE_SERVER_PORT", str(port))
        get_settings.cache_clear()
        try:
            with pytest.raises(SystemExit) as exited:
                launcher._start_dagster("127.0.0.1", _free_port(), dict(os.environ), tmp_path / "logs")
        finally:
            get_settings.cache_clear()
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip() == (
        f"error: port {port} of the Dagster code server is in use; set JUST_DNA_CODE_SERVER_PORT"
    )
    assert not (tmp_path / "logs").exists()  # nothing was started


def test_queue_mode_starts_the_code_server_first_and_points_dagster_at_its_workspace(monkeypatch, tmp_path):
    from just_dna_pipelines.settings import get_settings

    monkeypatch.setenv("JUST_DNA_RUN_MODE", "queue")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    get_settings.cache_clear()
    try:
        cmds = launcher._dagster_cmds("127.0.0.1", 3999)
    finally:
        get_settings.cache_clear()
    assert list(cmds) == ["dagster-code-server", "dagster-webserver", "dagster-daemon"]
    assert cmds["dagster-code-server"][1:6] == [
        "code-server",
        "start",
        "-m",
        "just_dna_pipelines.definitions",
        "--location-name",
    ]
    workspace = str(tmp_path.resolve() / "workspace.yaml")
    assert cmds["dagster-daemon"][1:] == ["run", "-w", workspace]
    assert cmds["dagster-webserver"][1:3] == ["-w", workspace]


RUN_STATUS_QUERY = 'query { runOrError(runId: "%s") { __typename ... on Run { status } } }'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ui_run_status(port: int, run_id: str) -> str | None:
    """The run's status as the Dagster UI shows it (its GraphQL API), or None while the webserver starts.

    "RunNotFoundError" when the webserver answers but has no such run.
    """
    body = json.dumps({"query": RUN_STATUS_QUERY % run_id}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", body, {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            run = json.loads(response.read())["data"]["runOrError"]
    except (OSError, KeyError, ValueError):
        return None
    return run.get("status") or run.get("__typename")


def _ui_code_locations(port: int, run_id: str) -> tuple[list[str], str]:
    """The code locations the Dagster UI loaded, and the one the run names as its origin."""
    query = (
        "query { workspaceOrError { ... on Workspace { locationEntries { name } } } "
        'runOrError(runId: "RUN") { ... on Run { repositoryOrigin { repositoryLocationName } } } }'
    ).replace("RUN", run_id)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        json.dumps({"query": query}).encode(),
        {"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        data = json.loads(response.read())["data"]
    names = [entry["name"] for entry in data["workspaceOrError"]["locationEntries"]]
    return names, data["runOrError"]["repositoryOrigin"]["repositoryLocationName"]


def _known_ui_status(port: int, run_id: str) -> str | None:
    """The run's status in the Dagster UI once the UI has it."""
    status = _ui_run_status(port, run_id)
    return None if status == "RunNotFoundError" else status


def _group_commands(group: int) -> list[str]:
    """The command lines of the processes in a process group."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            stat = (proc / "stat").read_text()
            args = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError):
            continue
        if proc.name.isdigit() and int(stat.rsplit(")", 1)[1].split()[2]) == group:
            found.append(args)
    return found


def _point_pipelines_at(root: Path, monkeypatch) -> None:
    """Fresh folders for everything, as on a fresh clone; demo modules; one run at a time."""
    from just_dna_pipelines.runs import instance
    from just_dna_pipelines.settings import get_settings

    for name, value in {
        "DAGSTER_HOME": root / "dagster",
        "JUST_DNA_PIPELINES_INPUT_DIR": root / "input",
        "JUST_DNA_PIPELINES_OUTPUT_DIR": root / "output",
        "JUST_DNA_PIPELINES_CACHE_DIR": root / "cache",
        "JUST_DNA_PIPELINES_MODULES_SOURCE": "demo",
        "JUST_DNA_PIPELINES_MAX_CONCURRENT_RUNS": "1",
        "HF_ENDPOINT": "http://127.0.0.1:9",
        "JUST_DNA_CODE_SERVER_PORT": _free_port(),  # not the default: an app may run on this machine
    }.items():
        monkeypatch.setenv(name, str(value))
    get_settings.cache_clear()
    instance._instances.clear()


def _one_fresh_start(root: Path, add_sample, wait_until, long_vcf: Path | None) -> None:
    """Start Dagster's services and the app side at once, as the launcher does; check storage and runs.

    With `long_vcf`, a long run then holds the only slot so a demo run is seen queued in the Dagster UI.
    """
    from just_dna_pipelines import service
    from just_dna_pipelines.modules.demo import ensure_demo_sample
    from just_dna_pipelines.runs.storage_check import known_revisions, storage_revisions

    port = _free_port()
    home = launcher._dagster_home()
    env = launcher._base_env(home)
    procs = launcher._start_dagster("127.0.0.1", port, env, root / "logs")
    outcome = root / "app-run"
    app = launcher._spawn(
        "app", [sys.executable, "-c", FIRST_START_APP_SIDE, str(outcome)], env, root / "logs"
    )
    try:
        wait_until(lambda: app.poll() is not None, "the app side")
        assert app.returncode == 0, (root / "logs" / "app.log").read_text()[-3000:]
        run_id, status = outcome.read_text().split()
        assert status == "success"
        assert wait_until(lambda: _ui_run_status(port, run_id), "the Dagster UI") == "SUCCESS"
        # one name for the code location everywhere: the UI's, the run's origin (so the run links to its job)
        assert _ui_code_locations(port, run_id) == ([CODE_LOCATION], CODE_LOCATION)
        # one code server, the launcher's: neither the webserver nor the daemon starts one of its own (the
        # daemon's was replaced every minute)
        for name in ("dagster-webserver", "dagster-daemon"):
            assert not [args for args in _group_commands(procs[name].pid) if "api grpc" in args], name
        if long_vcf is not None:
            add_sample("bob", long_vcf, "long")
            held = service.launch_run("bob", "long", ["longevitymap"])
            wait_until(lambda: service.get_run(held).status == "running", "the long run to hold the slot")
            # Held (its processes stopped) until the cancel: on a fast machine it could end before Carol's run
            # is seen queued.
            with ThreadPoolExecutor(1) as pool, held_run(get_instance(), held) as held_pid:
                add_sample("carol", ensure_demo_sample(root / "demo"), "demo")
                queued = service.launch_run("carol", "demo", ["longevitymap"])
                # Accepted at once, the run is in Dagster a moment later.
                assert wait_until(lambda: _known_ui_status(port, queued), "the run in the UI") == "QUEUED"
                assert service.get_run(held).status == "running"  # seen queued while the slot was taken
                canceling = pool.submit(service.cancel_run, held)
                wait_for_pending_signal(held_pid, signal.SIGTERM)  # taken as it continues
            canceling.result()  # done: the pool waited for it
            assert wait_until(lambda: service.get_run(queued).finished, "the queued run")
            assert service.get_run(queued).status == "success"
        assert [name for name, proc in procs.items() if proc.poll() is not None] == []
        head, _ = known_revisions()
        assert storage_revisions(home) == {
            "history/runs.db": [head],
            "history/runs/index.db": [head],
            "schedules/schedules.db": [head],
        }
        daemon_log = (root / "logs" / "dagster-daemon.log").read_text()
        assert "error dequeuing" not in daemon_log  # the daemon left the app's queued runs alone
        for log in ("dagster-daemon.log", "dagster-webserver.log"):  # the dg project's name is the location's
            assert "does not match the name" not in (root / "logs" / log).read_text()
    finally:
        launcher._stop({**procs, "app": app})


@pytest.mark.slow
def test_fresh_starts_of_the_stack_leave_sound_storage_and_run(
    tmp_path, monkeypatch, add_sample, wait_until, long_vcf
):
    """The launcher's Dagster webserver and daemon, and the app's service calls at the same moment, on a fresh
    folder, several times (JUST_DNA_STACK_STARTS, default 3): one schema revision per storage database, the
    services stay up, runs succeed and show in the Dagster UI; the last start also sees a run queued there."""
    starts = int(os.environ.get("JUST_DNA_STACK_STARTS", "3"))
    for attempt in range(starts):
        root = tmp_path / f"start{attempt}"
        _point_pipelines_at(root, monkeypatch)
        _one_fresh_start(root, add_sample, wait_until, long_vcf if attempt == starts - 1 else None)


def test_a_damaged_instance_stops_the_launcher_with_one_line_saying_what_to_do(tmp_path, monkeypatch, capsys):
    from just_dna_pipelines.runs import instance

    _point_pipelines_at(tmp_path, monkeypatch)
    home = launcher._dagster_home()  # a sound instance first
    (home / "history" / "runs.db").write_bytes(b"not a database" * 100)
    instance._prepared.discard(home)  # as a later start of the launcher sees it
    instance._instances.clear()
    with pytest.raises(SystemExit) as exited:
        launcher._dagster_home()
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: the Dagster storage in") and "\n" not in err
    assert f"mv {home} {home}.broken" in err

"""The launcher's process handling: children in their own groups, stopped with everything they started."""

import os
import subprocess
import time

import psutil

from webui import launcher


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


def test_dagster_commands_target_the_project_definitions():
    cmds = launcher._dagster_cmds("127.0.0.1", 3999)
    assert cmds["dagster-webserver"][1:] == [
        "-m",
        "just_dna_pipelines.definitions",
        "-h",
        "127.0.0.1",
        "-p",
        "3999",
    ]
    assert cmds["dagster-daemon"][1:] == ["run", "-m", "just_dna_pipelines.definitions"]
    assert subprocess.run([cmds["dagster-webserver"][0], "--help"], capture_output=True).returncode == 0

"""The warm command server: the `pipelines` program as installed, run twice, the second time served by a forked
child of the server the first one started; results, errors, exit statuses and signals as without it."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from just_dna_pipelines.cli import warm_place
from just_dna_pipelines.modules.demo import ensure_demo_sample
from tests.interrupted_runs import folder_state, interrupt_at, no_staging_left, run_id_of, run_status

PROGRAM = Path(sys.executable).with_name("pipelines")  # the entry point the package installs
WARM_UP_LIMIT_S = 120  # a loaded CI machine imports slowly


@pytest.fixture
def warm(pipeline_env, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Warm servers turned on (the suite turns them off) with their sockets in a fresh private folder; every
    server started is made to end by removing its socket, and shown to have ended (its lock free)."""
    runtime = Path(tempfile.mkdtemp(prefix="jdw", dir="/tmp"))  # short: a socket's path has <= 107 bytes
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv(warm_place.IDLE_SECONDS_VARIABLE, "120")
    folder = runtime / f"just-dna-pipelines-{os.getuid()}"
    yield folder
    for sock in folder.glob("*.sock"):
        sock.unlink()
    try:
        for lock in folder.glob("*.lock"):
            assert _lock_freed_within(lock, 15), f"the server of {lock.name} did not end without its socket"
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


def _lock_freed_within(lock: Path, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return True  # the server removed it as it ended
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.1)
    finally:
        os.close(fd)


def pipelines(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PROGRAM), *args], capture_output=True, text=True, timeout=600, **kwargs)


def wait_for_server(folder: Path) -> Path:
    """The socket of the one server started in `folder`, once it listens and its log says so (the server binds
    its socket a moment before it writes its log's first line: `served` read an empty log in between)."""
    deadline = time.monotonic() + WARM_UP_LIMIT_S
    while time.monotonic() < deadline:
        sockets = list(folder.glob("*.sock"))
        log = sockets[0].with_suffix(".log") if sockets else None
        first_line, ended, _ = (
            log.read_text().partition("\n") if log is not None and log.is_file() else ("", "", "")
        )
        if ended and first_line.endswith(": serving"):
            assert len(sockets) == 1, sockets
            return sockets[0]
        time.sleep(0.1)
    raise AssertionError(f"no warm server listened in {folder} within {WARM_UP_LIMIT_S} s")


def served(socket_path: Path) -> list[str]:
    """The server's log: one line per command started and ended."""
    log = socket_path.with_suffix(".log")
    lines = log.read_text().splitlines() if log.is_file() else []
    assert lines and lines[0].endswith(": serving"), lines  # the server's own first line
    return lines[1:]


VARYING = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # a run id
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?"  # a time
    r"|^\[ *\d+\.\ds\]"  # a progress line's elapsed seconds
)


def without_run_ids(text: str) -> list[str]:
    """Lines with what differs between two runs of the same command (run ids, times, elapsed seconds) masked."""
    return [VARYING.sub("*", line) for line in text.splitlines()]


@pytest.mark.slow
def test_a_second_run_is_served_warm_with_the_same_results(
    warm: Path, pipeline_env, genomes: Path, compiled_modules: Path
) -> None:
    args = (
        "annotate-modules", "--vcf", str(genomes / "PG_NA12878_hg38-chr21.vcf.gz"), "--user", "alice",
        "--modules-source", str(compiled_modules),
    )  # fmt: skip
    first = pipelines(*args)  # runs in its own process and starts the server
    assert first.returncode == 0, first.stderr
    sock = wait_for_server(warm)
    assert served(sock) == []
    # the same run again in its own process (warm servers off), then warm: both follow an earlier run
    cold = pipelines(*args, env=os.environ | {warm_place.IDLE_SECONDS_VARIABLE: "0"})
    assert cold.returncode == 0, cold.stderr
    sample_dir = pipeline_env.output_dir / "users/alice/PG_NA12878_hg38-chr21"
    cold_manifest = json.loads((sample_dir / "modules/manifest.json").read_text())
    cold_report = (sample_dir / "reports/longevity_report.html").read_text()
    assert served(sock) == []

    again = pipelines(*args)
    assert again.returncode == 0, again.stderr
    log = served(sock)
    assert len(log) == 2 and "annotate-modules started" in log[0] and "annotate-modules exit 0" in log[1], log
    assert without_run_ids(again.stdout) == without_run_ids(cold.stdout)
    manifest = json.loads((sample_dir / "modules/manifest.json").read_text())
    assert manifest["modules"] == cold_manifest["modules"] and manifest["input"] == cold_manifest["input"]
    assert "longevitymap     done        3 variants (+2 / -1)" in again.stdout  # as without a server
    report = (sample_dir / "reports/longevity_report.html").read_text()
    assert without_run_ids(report) == without_run_ids(cold_report)


@pytest.mark.slow
def test_errors_exit_statuses_folder_and_environment_pass_through(
    warm: Path, pipeline_env, tmp_path: Path
) -> None:
    first = pipelines("add-partition", "alice/one")
    assert first.returncode == 0, first.stderr
    sock = wait_for_server(warm)

    not_a_vcf = tmp_path / "notes.vcf"
    not_a_vcf.write_text("this is not a VCF\n")
    # a relative path: the child works in the command's folder
    refused = pipelines(
        "annotate-modules", "--vcf", "notes.vcf", "--user", "alice", "--modules-source", "demo", cwd=tmp_path
    )
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "notes.vcf" in lines[0], refused.stderr
    assert not (pipeline_env.output_dir / "users/alice/notes").exists()

    usage = pipelines("annotate-modules", "--user")  # argparse's own error: status 2 and its usage
    assert usage.returncode == 2 and "usage: pipelines annotate-modules" in usage.stderr

    # other settings are another set-up: served by a server of their own, never by this one
    moved = pipelines(
        "add-partition", "bob/two",
        env=os.environ | {"JUST_DNA_PIPELINES_OUTPUT_DIR": str(tmp_path / "elsewhere")},
    )  # fmt: skip
    assert moved.returncode == 0, moved.stderr
    assert len(_wait_for_sockets(warm, 2)) == 2
    assert [line.split(": ", 1)[1].split(" after ")[0] for line in served(sock)] == [
        "annotate-modules started",
        "annotate-modules exit 2",
        "annotate-modules started",
        "annotate-modules exit 2",
    ]


def _stalled_download(fake_hub_factory, monkeypatch: pytest.MonkeyPatch):
    """A loopback hub whose reference file stalls after its first kilobyte: a download that never ends."""
    name = "data/homo_sapiens-chr21.parquet"
    hub = fake_hub_factory("just-dna-seq/ensembl_variations", {name: os.urandom(1 << 20)})
    hub.cut[name] = (1024, "stall")
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return hub


def _started_child(sock: Path, count: int) -> int:
    """The pid of the `count`-th command the server started (from its log)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        started = [line for line in served(sock) if line.endswith(" started")]
        if len(started) >= count:
            return int(started[count - 1].split("pid ", 1)[1].split(":", 1)[0])
        time.sleep(0.05)
    raise AssertionError(f"the server did not start command {count}: {served(sock)}")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.slow
def test_ctrl_c_and_a_killed_caller_reach_the_warm_child(
    warm: Path, pipeline_env, fake_hub_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = _stalled_download(fake_hub_factory, monkeypatch)  # before: the hub's address is part of the set-up
    first = pipelines("add-partition", "alice/one")
    assert first.returncode == 0, first.stderr
    hub_sock = wait_for_server(warm)

    # Ctrl-C in a terminal: the caller gets SIGINT and passes it on; the command ends as it would here
    caller = subprocess.Popen(
        [str(PROGRAM), "download-ensembl", "--contigs", "21"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    child = _started_child(hub_sock, 1)
    _wait_for_hub_request(hub)
    caller.send_signal(signal.SIGINT)
    _, err = caller.communicate(timeout=60)
    assert caller.returncode == 130, err
    assert err.decode().strip().splitlines()[-1] == "error: interrupted"
    assert _gone_within(child, 10)

    # the caller killed outright: its child is hung up on, as a closed terminal would
    caller = subprocess.Popen(
        [str(PROGRAM), "download-ensembl", "--contigs", "21"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    child = _started_child(hub_sock, 2)
    caller.kill()
    caller.wait(timeout=30)
    assert _gone_within(child, 10), "the warm child outlived its killed caller"

    # the child killed outright: the caller says so and ends, and never runs the command again itself (here it
    # would hang on the stalled hub)
    caller = subprocess.Popen(
        [str(PROGRAM), "download-ensembl", "--contigs", "21"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    child = _started_child(hub_sock, 3)
    os.kill(child, signal.SIGKILL)
    _, err = caller.communicate(timeout=60)
    assert caller.returncode == 1
    assert err.decode().strip().splitlines()[-1] == (
        "error: the command's process ended without an exit status (killed?)"
    )
    hub.release.set()


@pytest.mark.slow
def test_ctrl_c_of_a_warm_run_leaves_the_sample_as_it_was(
    warm: Path, pipeline_env, genomes: Path, tmp_path: Path
) -> None:
    """Before: the warm child's 'error: interrupted' went into the interrupted step's captured output, Dagster's
    helper watching its `tail -F` printed KeyboardInterrupt tracebacks (the caller passes SIGINT on to the child's
    process group), the run stayed STARTED and the sample mixed the two genomes' outputs."""
    args = ["annotate-modules", "--user", "u", "--sample", "s", "--modules-source", "demo", "--vcf"]
    first = pipelines(*args, str(ensure_demo_sample(tmp_path)))  # in its own process; starts the server
    assert first.returncode == 0, first.stderr
    sock = wait_for_server(warm)
    sample_dir = pipeline_env.output_dir / "users/u/s"
    before = folder_state(sample_dir)
    for count, step in enumerate(("user_vcf_normalized ...", "user_longevity_report ..."), start=1):
        code, out, err = interrupt_at([*args, str(genomes / "PG_NA12878_hg38-chr21.vcf.gz")], step)
        assert f"pid {_started_child(sock, count)}: annotate-modules exit 130" in "\n".join(served(sock))
        assert (code, err) == (130, "error: interrupted\n"), err
        assert run_status(run_id_of(out)) == dg.DagsterRunStatus.CANCELED
        assert folder_state(sample_dir) == before
        assert no_staging_left(pipeline_env.output_dir)


def _wait_for_sockets(folder: Path, count: int) -> list[Path]:
    deadline = time.monotonic() + WARM_UP_LIMIT_S
    while time.monotonic() < deadline:
        sockets = list(folder.glob("*.sock"))
        if len(sockets) >= count:
            return sockets
        time.sleep(0.1)
    raise AssertionError(f"{count} servers did not listen in {folder}")


def _wait_for_hub_request(hub) -> None:
    deadline = time.monotonic() + 60
    while not hub.headers_seen and time.monotonic() < deadline:
        time.sleep(0.05)


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_an_unsafe_folder_or_another_users_socket_is_never_used(
    warm: Path, pipeline_env, tmp_path: Path
) -> None:
    warm.parent.mkdir(exist_ok=True)
    warm.mkdir(mode=0o777)
    os.chmod(warm, 0o777)  # open to everyone: another user could plant a socket in it
    assert warm_place.private_folder() is None
    ran = pipelines("add-partition", "alice/one")
    assert ran.returncode == 0, ran.stderr  # ran in its own process
    time.sleep(1)
    assert not list(warm.glob("*.sock")) and not list(warm.glob("*.lock"))  # and started no server there

    os.chmod(warm, 0o700)
    if os.getuid() != 0:
        pytest.skip("checking another user's socket needs root to act as another user")
    # a socket there whose server listens as another user: the command runs in its own process
    key = warm_place.fingerprint()
    path = warm_place.socket_path(key)
    assert path is not None
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listening_r, listening_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the stranger: listens as user nobody (the kernel then names nobody as the peer)
        with contextlib.suppress(BaseException):
            os.setgid(65534)
            os.setuid(65534)
            listener.listen(1)
            os.write(listening_w, b"1")
            connection, _ = listener.accept()
            connection.recv(1)
        os._exit(0)
    listener.close()
    try:
        assert os.read(listening_r, 1) == b"1"
        from just_dna_pipelines.cli.warm_client import run_warm

        assert run_warm(key, ["add-partition", "alice/two"]) is None
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(listening_r)
        os.close(listening_w)
        path.unlink()


@pytest.mark.slow
def test_a_malformed_request_leaves_the_server_serving_and_a_new_version_ends_the_old(
    warm: Path, pipeline_env
) -> None:
    from just_dna_pipelines.cli.warm_client import HEADER

    assert pipelines("add-partition", "alice/one").returncode == 0
    sock = wait_for_server(warm)
    setup = sock.stem.split("-")[0]
    for body in (b'{"argv": [["add-partition"]], "env": {}}', b"[1, 2]", b"{"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as hostile:
            hostile.connect(str(sock))
            null = os.open(os.devnull, os.O_RDWR)
            root = os.open("/", os.O_RDONLY)
            try:
                socket.send_fds(hostile, [HEADER.pack(len(body))], [null, null, null, root])
                hostile.sendall(body)
                hostile.settimeout(10)
                with contextlib.suppress(OSError):
                    while hostile.recv(4096):
                        pass
            finally:
                os.close(null)
                os.close(root)
    again = pipelines("add-partition", "alice/two")
    assert again.returncode == 0, again.stderr
    assert sock.exists() and served(sock)[-1].split(": ", 1)[1].startswith("add-partition exit 0"), served(
        sock
    )

    # a server of the same set-up with other code (an edit, an install) makes the old one end
    sock.unlink()
    assert _lock_freed_within(sock.with_suffix(".lock"), 15)  # a server ends once its socket is gone
    old = sock.with_name(f"{setup}-{'0' * 16}.sock")  # as if listening for code since changed
    stand_in = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stand_in.bind(str(old))
    stand_in.listen(1)
    try:
        assert pipelines("add-partition", "alice/three").returncode == 0  # no server: runs here, starts one
        wait_for_server_at(sock)
        deadline = time.monotonic() + 10
        while old.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not old.exists()
    finally:
        stand_in.close()


def wait_for_server_at(sock: Path) -> None:
    deadline = time.monotonic() + WARM_UP_LIMIT_S
    while not sock.exists():
        assert time.monotonic() < deadline, f"no server listened at {sock}"
        time.sleep(0.1)


@pytest.mark.slow
def test_a_command_started_with_nohup_survives_a_hang_up(
    warm: Path, pipeline_env, fake_hub_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = _stalled_download(fake_hub_factory, monkeypatch)
    assert pipelines("add-partition", "alice/one").returncode == 0
    sock = wait_for_server(warm)
    caller = subprocess.Popen(
        [str(PROGRAM), "download-ensembl", "--contigs", "21"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),  # what nohup does
    )
    child = _started_child(sock, 1)
    _wait_for_hub_request(hub)
    caller.send_signal(signal.SIGHUP)
    time.sleep(1.5)
    assert caller.poll() is None and _alive(child), "a hang-up ended a command that ignores it"
    caller.send_signal(signal.SIGINT)
    _, err = caller.communicate(timeout=60)
    assert caller.returncode == 130, err
    hub.release.set()


def test_a_relative_runtime_folder_is_not_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_RUNTIME_DIR", "relative")
    monkeypatch.setenv("TMPDIR", str(tmp_path / "abs"))
    (tmp_path / "abs").mkdir()
    assert warm_place.private_folder() == tmp_path / "abs" / f"just-dna-pipelines-{os.getuid()}"
    assert not (tmp_path / "relative").exists()


def test_a_closed_standard_output_is_dev_null_without_a_server_too(pipeline_env, genomes: Path) -> None:
    ran = subprocess.run(
        [str(PROGRAM), "annotate-modules", "--vcf", str(genomes / "antku_small.vcf"), "--user", "alice",
         "--modules-source", "demo", "--no-report"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=600,
        preexec_fn=lambda: os.close(1),
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert (pipeline_env.output_dir / "users/alice/antku_small/modules/manifest.json").is_file()

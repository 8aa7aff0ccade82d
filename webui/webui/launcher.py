"""Entry points `start` (Dagster + web app) and `dagster-ui` (Dagster alone), stopped cleanly on Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import NoReturn

from webui.toolchain import REPO_ROOT, ensure_bun, offline_env


def _dagster_home() -> Path:
    """The persistent Dagster instance, created or migrated before any service opens it; exit 2 if damaged.

    The webserver, the daemon and the app each create a fresh instance's storage if it is missing;
    started at once on an empty folder they race and leave it unusable, so it exists before they start.
    """
    from just_dna_pipelines.errors import PipelineError
    from just_dna_pipelines.runs.instance import ensure_dagster_home
    from just_dna_pipelines.service import prepare_instance

    try:
        prepare_instance()
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from exc
    return ensure_dagster_home()


def _parser(with_web: bool) -> argparse.ArgumentParser:
    """Command-line flags; each has an environment variable so scripts and CI can set them too."""
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="start" if with_web else "dagster-ui")
    parser.add_argument("--host", default=env("JUST_DNA_HOST", "127.0.0.1"), help="interface to bind")
    parser.add_argument(
        "--dagster-port", type=int, default=int(env("JUST_DNA_DAGSTER_PORT", "3030")), help="Dagster UI"
    )
    # The Dagster UI has no login and lists every user's runs: loopback unless explicitly opened.
    parser.add_argument(
        "--dagster-host",
        default=env("JUST_DNA_DAGSTER_HOST", "127.0.0.1"),
        help="interface the Dagster UI binds (it has no login: keep it on 127.0.0.1 or behind an authenticating proxy)",
    )
    if with_web:
        parser.add_argument(
            "--frontend-port", type=int, default=int(env("JUST_DNA_FRONTEND_PORT", "3000")), help="web app"
        )
        parser.add_argument(
            "--backend-port", type=int, default=int(env("JUST_DNA_BACKEND_PORT", "8000")), help="web API"
        )
        parser.add_argument(
            "--prod",
            action="store_true",
            default=env("JUST_DNA_PROD", "") == "1",
            help="production build served on one port (--frontend-port)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="backend worker processes with --prod (default: JUST_DNA_WEBUI_WORKERS or 1; more needs REDIS_URL)",
        )
        parser.add_argument("--no-dagster", action="store_true", help="start the web app alone")
    return parser


def _spawn(name: str, cmd: list[str], env: dict[str, str], log_dir: Path) -> subprocess.Popen[bytes]:
    """Start `cmd` in its own process group (so the whole tree can be stopped) with output in a log file."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log = (log_dir / f"{name}.log").open("ab")
    print(f"  {name}: {' '.join(cmd)}  (log: {log_dir / (name + '.log')})", flush=True)
    return subprocess.Popen(
        cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def _stop(procs: dict[str, subprocess.Popen[bytes]], grace: float = 8.0) -> None:
    """Stop every child process group: SIGTERM, then SIGKILL whatever is left after `grace` seconds."""
    for proc in procs.values():
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    # The whole group goes, also when the leader has exited but left children behind.
    for proc in procs.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    for proc in procs.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)


def _dagster_cmds(host: str, port: int) -> dict[str, list[str]]:
    """Commands of Dagster's services: the code server, the webserver, the daemon."""
    from just_dna_pipelines.runs.dagster_config import dagster_service_commands
    from just_dna_pipelines.settings import get_settings

    return dagster_service_commands(get_settings(), host, port, Path(sys.executable).parent)


def _start_dagster(
    host: str, port: int, env: dict[str, str], log_dir: Path
) -> dict[str, subprocess.Popen[bytes]]:
    """Start Dagster's services (call `_dagster_home()` first: they must find the instance ready).

    The code server starts first and the others once it answers (the daemon would otherwise see the code
    location missing until its next workspace reload, a minute later). A code server that cannot start (its
    port taken, say by another copy of the app) stops the launcher with one line: the webserver and daemon
    would otherwise talk to whatever holds that port."""
    procs: dict[str, subprocess.Popen[bytes]] = {}
    for name, cmd in _dagster_cmds(host, port).items():
        if name == "dagster-code-server":
            code_host, code_port = cmd[cmd.index("-h") + 1], int(cmd[cmd.index("-p") + 1])
            if _port_taken(code_host, code_port):
                _fail(f"port {code_port} of the Dagster code server is in use; set JUST_DNA_CODE_SERVER_PORT")
        procs[name] = _spawn(name, cmd, env, log_dir)
        if name == "dagster-code-server":
            _wait_for_port(code_host, code_port, procs[name])
            if procs[name].poll() is not None:
                _stop(procs)
                _fail(f"the Dagster code server stopped at start; see {log_dir / (name + '.log')}")
    return procs


def _port_taken(host: str, port: int) -> bool:
    """Whether something already listens on host:port."""
    import socket

    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


def _fail(message: str) -> NoReturn:
    """Stop the launcher with one line."""
    print(f"error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(2)


def _wait_for_port(host: str, port: int, proc: subprocess.Popen[bytes], timeout: float = 180.0) -> None:
    """Wait until a started service accepts connections (or has exited, or the timeout passed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if _port_taken(host, port):
            return
        time.sleep(0.5)


def _supervise(procs: dict[str, subprocess.Popen[bytes]]) -> int:
    """Wait until Ctrl-C / SIGTERM or until a child dies; then stop everything."""
    stop_requested = False

    def _request_stop(signum: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, _request_stop)
    signal.signal(signal.SIGTERM, _request_stop)
    code = 0
    try:
        while not stop_requested:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(f"error: {name} exited with code {proc.returncode}; stopping", flush=True)
                    stop_requested, code = True, 1
                    break
            time.sleep(0.3)
    finally:
        print("stopping...", flush=True)
        _stop(procs)
        print("stopped.", flush=True)
    return code


def _base_env(dagster_home: Path) -> dict[str, str]:
    """Environment shared by all children: Dagster home and the offline-friendly toolchain settings."""
    env = {**os.environ, **offline_env()}
    env["DAGSTER_HOME"] = str(dagster_home)
    return env


def start(argv: list[str] | None = None) -> None:
    """Start Dagster (webserver + daemon) and the Reflex web app; print the URLs; stop all on Ctrl-C."""
    args = _parser(with_web=True).parse_args(argv)
    workers = _backend_workers(args.workers, args.prod)
    home = _dagster_home()
    log_dir = home.parent / "logs"
    env = _base_env(home)
    env["REFLEX_BUN_PATH"] = str(ensure_bun())
    env["JUST_DNA_HOST"] = args.host
    # The web app allows only its own page origins (CORS, websocket Origin check): tell it its ports.
    env["JUST_DNA_FRONTEND_PORT"] = str(args.frontend_port)
    env["JUST_DNA_BACKEND_PORT"] = str(args.frontend_port if args.prod else args.backend_port)
    host = args.host
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    procs = {} if args.no_dagster else _start_dagster(args.dagster_host, args.dagster_port, env, log_dir)
    reflex = [str(Path(sys.executable).parent / "reflex"), "run", "--backend-host", host]
    if args.prod:
        reflex += ["--env", "prod", "--single-port", "--frontend-port", str(args.frontend_port)]
        # Reflex's prod backend is Granian here (no gunicorn installed); it takes its worker count from this.
        env["GRANIAN_WORKERS"] = str(workers)
        env.setdefault("REFLEX_USE_GRANIAN", "true")
    else:
        reflex += ["--frontend-port", str(args.frontend_port), "--backend-port", str(args.backend_port)]
    procs["webui"] = _spawn("webui", reflex, env, log_dir)
    print(f"\njust-dna-lite web app: http://{shown}:{args.frontend_port}", flush=True)
    if not args.no_dagster:
        dagster_shown = "127.0.0.1" if args.dagster_host in ("0.0.0.0", "::") else args.dagster_host
        print(f"Dagster UI:            http://{dagster_shown}:{args.dagster_port}", flush=True)
    print("(first start builds the web frontend: ~15 s; Ctrl-C stops everything)\n", flush=True)
    raise SystemExit(_supervise(procs))


def _backend_workers(flag: int | None, prod: bool) -> int:
    """The backend worker count (flag, else JUST_DNA_WEBUI_WORKERS); exit 2 with one line if it cannot work."""
    from webui.config import get_web_settings, settings_problem

    if flag is not None:
        os.environ["JUST_DNA_WEBUI_WORKERS"] = str(flag)
    get_web_settings.cache_clear()
    problem = settings_problem()
    if problem is None and get_web_settings().workers > 1 and not prod:
        problem = "several backend workers need --prod (the development server runs one)"
    if problem:
        print(f"error: {problem}", file=sys.stderr, flush=True)
        raise SystemExit(2)
    return get_web_settings().workers


def dagster_ui(argv: list[str] | None = None) -> None:
    """Start the Dagster webserver and daemon alone."""
    args = _parser(with_web=False).parse_args(argv)
    home = _dagster_home()
    env = _base_env(home)
    procs = _start_dagster(args.dagster_host, args.dagster_port, env, home.parent / "logs")
    shown = "127.0.0.1" if args.dagster_host in ("0.0.0.0", "::") else args.dagster_host
    print(f"\nDagster UI: http://{shown}:{args.dagster_port}  (Ctrl-C stops it)\n", flush=True)
    raise SystemExit(_supervise(procs))

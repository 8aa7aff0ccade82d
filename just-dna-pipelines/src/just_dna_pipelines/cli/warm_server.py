"""A warm command server: a background process with everything a `pipelines` run imports (Dagster, its
storage, Polars, the definitions' modules) already imported, that forks a child for each command handed to
it (warm_client.py). A command then starts its Dagster run at once instead of after a second of imports.

- One per set-up: its socket is named by the fingerprint of the commands it may serve (warm_place.py), in a
  folder only its user can open; it also checks each caller's user id. A lock keeps it the only one.
- It only imports: no Polars query, no database opened, no thread of its own (Polars' allocator and its
  out-of-core cleaner start idle threads at import, as in the run worker, runs/worker.py, which forks the same
  way), so forking it is safe. Each child takes the command's streams, folder, umask and environment, becomes its
  own session (signals reach it and whatever it starts), runs the command as `pipelines` would, reports its
  exit status and exits.
- It ends after `JUST_DNA_PIPELINES_WARM_SECONDS` without a command (600 by default), or when its socket is
  removed or replaced; started by `python -P -m just_dna_pipelines.cli.warm_server KEY IDLE_SECONDS`.
- Beside its socket, `KEY.log` says which commands it served: the subcommand's name, the child's pid, its exit
  status and time (never the arguments: they name people's samples).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import fcntl
import importlib
import json
import os
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, NoReturn

from just_dna_pipelines import startup_gc
from just_dna_pipelines.cli import warm_place
from just_dna_pipelines.cli.warm_client import HEADER, peer_uid
from just_dna_pipelines.runs import deferred_alembic

ACCEPT_TICK_S = 1.0
REQUEST_TIMEOUT_S = 2.0  # a caller sends its request at once, on this machine
MAX_REQUEST_BYTES = 16 << 20
MAX_LOG_BYTES = 1 << 20  # then the log stops growing until the next server
DESCRIPTORS = 4  # stdin, stdout, stderr, the working folder
# What a command imports before and while its run starts (the run worker's list covers the steps).
COMMAND_MODULES = (
    "dagster._core.definitions.external_asset",
    "dagster._core.definitions.repository_definition.repository_data_builder",
    "dagster._core.execution.api",
    "dagster._core.execution.execute_in_process",
    "dagster._core.executor.in_process",
    "dagster._core.instance.factory",
    "dagster._core.instance.runs.run_domain",
    "dagster._core.secrets.env_file",
    "dagster._core.storage.local_compute_log_manager",
    "dagster._core.storage.root",
    "dagster._core.system_config.composite_descent",
    "fsspec.implementations.local",
    "just_dna_pipelines.annotation.normalize_ahead",
    "just_dna_pipelines.bam.native",
    "just_dna_pipelines.cli.run_job",
    "just_dna_pipelines.defs.jobs",
    "just_dna_pipelines.io.file_hash",
    "just_dna_pipelines.io.input_kind",
    "just_dna_pipelines.io.vcf_index_read",
    "just_dna_pipelines.io.vcf_preview",
    "just_dna_pipelines.modules.registry",
    "just_dna_pipelines.modules.sources",
    "just_dna_pipelines.report.input_text",
    "just_dna_pipelines.runs.events",
    "just_dna_pipelines.runs.execute",
    "just_dna_pipelines.runs.instance",
    "just_dna_pipelines.runs.sample_claim",
    "just_dna_pipelines.runs.sqlite_pool",
    "polars._utils.parquet",
    "pysam",
    "upath.implementations.local",
    "watchdog.observers.polling",
)


def _warm_up() -> frozenset[str]:
    """Import what commands need, running nothing (Polars' thread pool, once used, hangs a forked child);
    the subcommands' names."""
    from just_dna_pipelines.cli import build_parser
    from just_dna_pipelines.runs.worker import RUN_TIME_MODULES

    parser = build_parser()  # imports every subcommand's module
    for name in (*COMMAND_MODULES, *RUN_TIME_MODULES):
        importlib.import_module(name)
    subcommands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return frozenset(subcommands.choices)


def main() -> None:
    """Serve commands for the fingerprint in argv[1] until idle for argv[2] seconds."""
    key, idle = sys.argv[1], float(sys.argv[2])
    path = warm_place.socket_path(key)
    if path is None:
        return
    lock_fd = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return  # another server for this set-up is starting or serving
    startup_gc.pause()
    deferred_alembic.install()  # as in a command: loaded only if a home must be created or migrated
    commands = _warm_up()
    startup_gc.settle(collect=True)  # the children neither walk nor copy the warm-up's objects
    listener = _listen(path)
    bound = os.stat(path).st_ino
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a `kill` still removes the socket
    log = path.with_suffix(".log")
    log.unlink(missing_ok=True)
    _log(log, f"pid {os.getpid()}: serving", create=True)
    _end_older_code(path)
    try:
        _serve(listener, lock_fd, idle, lambda: _still_ours(path, bound), log, commands)
    finally:
        listener.close()
        if _still_ours(path, bound):
            path.unlink()
        log.unlink(missing_ok=True)
        path.with_suffix(".lock").unlink(missing_ok=True)  # still held: a newcomer's lock is its own file


def _end_older_code(path: Path) -> None:
    """Remove the sockets of servers of this set-up with other code (an edit, an install): no command will
    use them again, and each ends within a second of losing its socket instead of after its idle time."""
    setup = path.stem.split("-")[0]
    for other in path.parent.glob(f"{setup}-*.sock"):
        if other != path:
            other.unlink(missing_ok=True)


def _listen(path: Path) -> socket.socket:
    """A listening socket at `path` (a stale one from a server that died is replaced), only its user's."""
    path.unlink(missing_ok=True)  # the lock is ours: no live server uses this path
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    umask = os.umask(0o177)
    try:
        listener.bind(str(path))
    finally:
        os.umask(umask)
    listener.listen(16)
    listener.settimeout(ACCEPT_TICK_S)
    return listener


def _still_ours(path: Path, inode: int) -> bool:
    """Whether `path` is still the socket this server bound (not removed, nor replaced by another)."""
    try:
        return os.stat(path).st_ino == inode
    except OSError:
        return False


def _serve(
    listener: socket.socket, lock_fd: int, idle: float, still_ours: Any, log: Path, commands: frozenset[str]
) -> None:
    """Accept commands, forking a child for each, until idle or the socket is no longer ours."""
    last_command = time.monotonic()
    while time.monotonic() - last_command < idle and still_ours():
        _reap()
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        last_command = time.monotonic()
        with connection:
            request = _read_request(connection)
            if request is None:
                continue
            message, descriptors = request
            pid = os.fork()
            if pid == 0:
                _child(connection, message, descriptors, listener, lock_fd, log, commands)
            for fd in descriptors:
                os.close(fd)


def _reap() -> None:
    """Collect the exit of every child that has ended (their callers learnt the status from the child)."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def _read_request(connection: socket.socket) -> tuple[dict[str, Any], list[int]] | None:
    """The command's request and descriptors, or None (a caller of another user, or a malformed request:
    whatever descriptors came are closed)."""
    deadline = time.monotonic() + REQUEST_TIMEOUT_S  # for the whole request: a trickle cannot hold the server
    connection.settimeout(REQUEST_TIMEOUT_S)
    descriptors: list[int] = []
    try:
        if peer_uid(connection) != os.getuid():
            return None
        header, descriptors, _, _ = socket.recv_fds(connection, HEADER.size, DESCRIPTORS)
        if len(header) != HEADER.size or len(descriptors) != DESCRIPTORS:
            raise ValueError("a request starts with its length and four descriptors")
        (length,) = HEADER.unpack(header)
        if length > MAX_REQUEST_BYTES:
            raise ValueError(f"a request of {length} bytes")
        body = bytearray()
        while len(body) < length:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ValueError("the request came too slowly")
            connection.settimeout(remaining)
            chunk = connection.recv(min(1 << 20, length - len(body)))
            if not chunk:
                raise ValueError("the request ended early")
            body += chunk
        message = json.loads(body.decode("utf-8", "surrogateescape"))
        if (
            not isinstance(message, dict)
            or not isinstance(message.get("argv"), list)
            or not all(isinstance(arg, str) for arg in message["argv"])
            or not isinstance(message.get("env"), dict)
        ):
            raise ValueError("a request names its arguments and environment")
        return message, descriptors
    except (OSError, ValueError):
        for fd in descriptors:
            os.close(fd)
        return None


def _child(
    connection: socket.socket,
    message: dict[str, Any],
    descriptors: list[int],
    listener: socket.socket,
    lock_fd: int,
    log: Path,
    commands: frozenset[str],
) -> NoReturn:
    """In the forked child: become the command (its streams, folder, umask, environment, session), run it
    as `pipelines` does, tell the caller the exit status, exit."""
    code = 1
    started = time.monotonic()
    command = "?"
    try:
        argv = message["argv"]
        command = argv[0] if argv and argv[0] in commands else "?"
        listener.close()
        os.close(lock_fd)
        os.setsid()  # its own process group: the caller passes its signals on to the group
        _take_over(message, descriptors)
        connection.settimeout(None)
        connection.sendall(json.dumps({"pid": os.getpid()}).encode() + b"\n")
        # logged once the caller knows this process: killed before, the caller runs the command itself
        _log(log, f"pid {os.getpid()}: {command} started")
        threading.Thread(target=_hang_up_when_caller_leaves, args=(connection,), daemon=True).start()
        from just_dna_pipelines.cli import run_command

        warm_place.serving_warm = True
        code = run_command(message["argv"])
        _end_like_an_interpreter()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        _log(log, f"pid {os.getpid()}: {command} exit {code} after {time.monotonic() - started:.2f} s")
        with contextlib.suppress(OSError):
            connection.sendall(json.dumps({"exit": code}).encode() + b"\n")
        os._exit(code)


def _log(log: Path, line: str, *, create: bool = False) -> None:
    """Append one line to the server's log (a single write: children append at the same time); only the
    server creates it (a child ending after its server must not leave one behind)."""
    with contextlib.suppress(OSError):
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC | (os.O_CREAT if create else 0), 0o600)
        try:
            if os.fstat(fd).st_size < MAX_LOG_BYTES:
                os.write(fd, f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {line}\n".encode())
        finally:
            os.close(fd)


def _take_over(message: dict[str, Any], descriptors: list[int]) -> None:
    """Make this process look like the command's own: standard streams, working folder, umask, environment,
    arguments and default signal handling."""
    for target, fd in zip((0, 1, 2), descriptors[:3], strict=True):
        os.dup2(fd, target)
    os.fchdir(descriptors[3])
    for fd in descriptors:
        if fd > 2:
            os.close(fd)
    os.umask(int(message.get("umask", 0o022)))
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in message["env"].items()})
    time.tzset()
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGCHLD, signal.SIGWINCH):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in message.get("ignored", []):  # as the caller has them (`nohup`: a hang-up is ignored)
        if signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(signum, signal.SIG_IGN)
    encoding = sys.stdout.encoding
    sys.stdin = open(0, encoding=encoding, closefd=False)  # noqa: SIM115 (the process's own stream)
    sys.stdout = open(1, "w", buffering=1 if os.isatty(1) else -1, encoding=encoding, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, encoding=encoding, errors="backslashreplace", closefd=False)  # noqa: SIM115
    sys.argv = [str(message.get("argv0", "pipelines")), *map(str, message["argv"])]
    settings = sys.modules.get("just_dna_pipelines.settings")
    if settings is not None:
        settings.get_settings.cache_clear()  # read again from this command's environment and folder


def _hang_up_when_caller_leaves(connection: socket.socket) -> None:
    """If the caller dies (killed, its terminal closed), hang up this command's process group, as its
    terminal would have."""
    with contextlib.suppress(OSError):
        while connection.recv(4096):
            pass
    os.killpg(os.getpid(), signal.SIGHUP)


def _end_like_an_interpreter() -> None:
    """What an ending interpreter does before exiting: wait for threads that are not daemons, run the exit
    handlers (temporary folders' clean-up among them)."""
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()


if __name__ == "__main__":
    main()

"""The `pipelines` program's side of a warm command server (warm_server.py): hand the command to a server that
has Dagster and the rest imported already, or start one for the next command.

A command handed over runs in a child the server forks for it, with this process's arguments, environment,
working folder, umask and standard streams (passed as file descriptors, so a terminal stays a terminal);
this process waits, passes on the signals it gets (Ctrl-C, a terminal's hang-up, a resize) to the child's
process group, and exits with the child's status. Standard library only: it runs before any heavy import.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
from typing import BinaryIO

from just_dna_pipelines.cli import warm_place

# Commands whose run starts Dagster: worth a warm server (a listing or --help is fast anyway).
WARM_COMMANDS = frozenset({"annotate-modules", "annotate-ensembl", "stream-bam", "add-partition"})
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGWINCH)
# Passed on as ignored when the caller ignores them (`nohup`, a background job of a script).
IGNORABLE_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
HEADER = struct.Struct("!Q")  # the request's length, sent with the descriptors
NO_STATUS = 1  # the child ended without telling its status (killed)


def peer_uid(connection: socket.socket) -> int:
    """The user id of the process at the other end of a Unix socket (the kernel's word, not the peer's)."""
    credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", credentials)[1]


def run_warm(key: str, argv: list[str]) -> int | None:
    """Run the command in the child of the warm server for fingerprint `key` and return its exit status;
    None if no server took it (then nothing ran, and the caller runs it here)."""
    path = warm_place.socket_path(key)
    if path is None:
        return None
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        try:
            connection.connect(str(path))
            if peer_uid(connection) != os.getuid():
                return None
            _send_request(connection, argv)
            replies = connection.makefile("rb")
            started = _reply(replies)
        except OSError:
            return None  # no server, a stale socket, or one that went away before forking: run it here
        pid = started.get("pid") if started is not None else None
        if not isinstance(pid, int) or pid <= 1:
            return (
                None  # the server went away before forking (the child names itself before it runs anything)
            )
        return _wait_for_child(pid, replies)  # from here on it ran: never run it again
    finally:
        connection.close()


def _send_request(connection: socket.socket, argv: list[str]) -> None:
    """Arguments, environment and umask as JSON; standard streams and working folder as descriptors."""
    umask = os.umask(0o022)
    os.umask(umask)
    ignored = [int(signum) for signum in IGNORABLE_SIGNALS if signal.getsignal(signum) == signal.SIG_IGN]
    request = json.dumps(
        {"argv": argv, "argv0": sys.argv[0], "env": dict(os.environ), "umask": umask, "ignored": ignored}
    ).encode("utf-8", "surrogateescape")
    opened = []
    descriptors = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
            descriptors.append(fd)
        except OSError:  # a closed standard stream: the child gets /dev/null there
            opened.append(os.open(os.devnull, os.O_RDWR))
            descriptors.append(opened[-1])
    opened.append(os.open(".", os.O_RDONLY | os.O_DIRECTORY))
    descriptors.append(opened[-1])
    try:
        socket.send_fds(connection, [HEADER.pack(len(request))], descriptors)
        connection.sendall(request)
    finally:
        for fd in opened:
            os.close(fd)


def _wait_for_child(pid: int, replies: BinaryIO) -> int:
    """Pass signals on to the child's process group until it reports its status, then wait until it has
    exited (its connection closes); its status."""

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signum)

    def suspend(_signum: int, _frame: object) -> None:
        # Ctrl-Z: the child has no terminal, so it is stopped outright, then this process stops as usual
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGSTOP)
        os.kill(os.getpid(), signal.SIGSTOP)

    for signum in FORWARDED_SIGNALS:
        if signal.getsignal(signum) != signal.SIG_IGN:  # what the caller ignores, the child ignores too
            signal.signal(signum, forward)
    signal.signal(signal.SIGCONT, forward)
    signal.signal(signal.SIGTSTP, suspend)
    ended = None
    with contextlib.suppress(OSError):
        ended = _reply(replies)
        while replies.read(4096):
            pass  # nothing more is sent; this waits for the end of the child's process
    if ended is None or not isinstance(ended.get("exit"), int):
        print("error: the command's process ended without an exit status (killed?)", file=sys.stderr)
        return NO_STATUS
    return ended["exit"]


def _reply(replies: BinaryIO) -> dict | None:
    """The next JSON object line from the child, or None at the connection's end (or for anything else)."""
    line = replies.readline(1 << 16)
    try:
        reply = json.loads(line) if line.strip() else None
    except ValueError:
        return None
    return reply if isinstance(reply, dict) else None


def start_server(key: str) -> None:
    """Start the warm server for fingerprint `key` in the background (it ends after the idle time); a second
    one for the same set-up ends at once (warm_server.py holds a lock)."""
    idle = warm_place.idle_seconds()
    if warm_place.socket_path(key) is None:
        return
    with contextlib.suppress(OSError):
        subprocess.Popen(
            # with this interpreter's flags (-X dev, -W, -O ...): they are part of the key
            [
                sys.executable,
                *subprocess._args_from_interpreter_flags(),  # type: ignore[attr-defined]
                "-P",
                "-m",
                "just_dna_pipelines.cli.warm_server",
                key,
                str(idle),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd="/",
            start_new_session=True,
        )


def warm_command(argv: list[str]) -> bool:
    """Whether `argv` names a command worth starting a warm server for."""
    return bool(argv) and argv[0] in WARM_COMMANDS and not {"-h", "--help"} & set(argv)

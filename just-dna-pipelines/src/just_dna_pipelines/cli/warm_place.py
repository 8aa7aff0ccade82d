"""Where a warm command server listens, and which one a command may use: its socket is named by a fingerprint
of everything a forked child would inherit from the server instead of from the command (the interpreter, our
code and the installed packages, the environment, the process's limits and identity).

Standard library only: the `pipelines` program computes it before importing anything else.
"""

from __future__ import annotations

import hashlib
import os
import resource
import stat
import sys
from collections.abc import Callable
from pathlib import Path

IDLE_SECONDS_VARIABLE = "JUST_DNA_PIPELINES_WARM_SECONDS"
DEFAULT_IDLE_SECONDS = 600.0
# Variables that name the terminal or shell a command was typed in, not anything a command reads; a
# server serves every shell of the same set-up. The child gets the command's whole environment anyway.
PER_SHELL_VARIABLES = frozenset(
    {
        "_",
        "PWD",
        "OLDPWD",
        "SHLVL",
        "COLUMNS",
        "LINES",
        "SSH_CLIENT",
        "SSH_CONNECTION",
        "SSH_TTY",
        "TMUX_PANE",
        "WINDOWID",
        "XDG_SESSION_ID",
        "GPG_TTY",
        "TERM_SESSION_ID",
    }
)
MAX_SOCKET_PATH = 100  # a Unix socket's path holds at most 107 bytes on Linux
# True in a warm server's child: the command's imports are done, so nothing is worth starting ahead of them.
serving_warm = False


def idle_seconds() -> float:
    """How long a warm server waits for its next command before it ends; 0 turns warm servers off."""
    text = os.environ.get(IDLE_SECONDS_VARIABLE, "").strip()
    try:
        value = float(text) if text else DEFAULT_IDLE_SECONDS
    except ValueError:
        return 0.0
    return value if value > 0 else 0.0


def fingerprint() -> str:
    """A key that changes whenever a server started earlier would run a command differently than a fresh
    process, in two parts: `SETUP-CODE`. The set-up: the interpreter and its flags, the environment, the
    working identity, limits, priority, CPUs, namespaces and control groups. The code: our files (every file of
    the package, by size and modification time) and the installed packages (their folders' modification times:
    an install or removal changes them). A server whose set-up part matches a newer server's but whose code
    part does not can never be used again (warm_server.py ends it)."""
    import just_dna_pipelines

    code = hashlib.sha256()
    digest = hashlib.sha256()

    def add_code(value: object) -> None:
        code.update(repr(value).encode("utf-8", "backslashreplace"))
        code.update(b"\0")

    def add(value: object) -> None:
        digest.update(repr(value).encode("utf-8", "backslashreplace"))
        digest.update(b"\0")

    add((sys.executable, sys.version, tuple(sys.flags), sorted(sys._xoptions.items()), sys.warnoptions))
    add_code(sys.path)
    for entry in sys.path:
        try:
            add_code((entry, os.stat(entry or ".").st_mtime_ns))
        except OSError:
            add_code((entry, None))
    _add_tree(Path(just_dna_pipelines.__file__).parent, add_code)
    add(sorted((key, value) for key, value in os.environ.items() if key not in PER_SHELL_VARIABLES))
    add((os.getuid(), os.geteuid(), os.getgid(), os.getegid(), sorted(os.getgroups())))
    umask = os.umask(0o022)
    os.umask(umask)
    add(umask)
    add(
        [
            (name, resource.getrlimit(getattr(resource, name)))
            for name in dir(resource)
            if name.startswith("RLIMIT_")
        ]
    )
    add((os.getpriority(os.PRIO_PROCESS, 0), sorted(os.sched_getaffinity(0))))
    add(_namespaces_and_groups())
    return f"{digest.hexdigest()[:16]}-{code.hexdigest()[:16]}"


def _namespaces_and_groups() -> tuple[str, ...]:
    """The Linux namespaces (a container's file system, process ids, network) and control groups (a memory or
    CPU limit) this process runs in: a child inherits the server's, so they must be the command's."""
    found = []
    for name in ("mnt", "pid", "net", "user", "ipc", "uts"):
        try:
            found.append(os.readlink(f"/proc/self/ns/{name}"))
        except OSError:
            found.append("")
    try:
        with open("/proc/self/cgroup", encoding="utf-8", errors="replace") as groups:
            found.append(groups.read(65536))
    except OSError:
        found.append("")
    return tuple(found)


def _add_tree(root: Path, add: Callable[[object], None]) -> None:
    """Every file under `root` (bytecode caches aside) by relative path, size and modification time."""
    stack = [root]
    while stack:
        folder = stack.pop()
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.name == "__pycache__":
                    continue
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                    continue
                info = entry.stat()
                add((os.path.relpath(entry.path, root), info.st_size, info.st_mtime_ns))


def private_folder() -> Path | None:
    """This user's folder for warm servers' sockets (made 0700 if missing), or None if it is not safely ours:
    not a real folder, owned by someone else, or open to others (another user could then plant a socket)."""
    # a relative folder would be another one from every working folder (and the server's is /)
    bases = [os.environ.get("XDG_RUNTIME_DIR", ""), os.environ.get("TMPDIR", "")]
    base = next((b for b in bases if os.path.isabs(b)), "/tmp")
    folder = Path(base) / f"just-dna-pipelines-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None
    return folder


def socket_path(key: str) -> Path | None:
    """The socket of the server for fingerprint `key` (None when no safe, short enough place exists)."""
    folder = private_folder()
    if folder is None:
        return None
    path = folder / f"{key}.sock"
    return path if len(os.fsencode(path)) <= MAX_SOCKET_PATH else None

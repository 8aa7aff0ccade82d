"""An exclusive lock on a file, shared by every process on this machine (CLI, web app, run worker, tests)."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def file_lock(path: Path, *, wait: bool = True) -> Iterator[None]:
    """Hold an exclusive flock on `path` (created if missing) for the duration of the block; with `wait=False`,
    BlockingIOError at once when another holds it.

    flock, not fcntl record locks: a forked child that closes its copy of the descriptor does not
    release the parent's lock, and the kernel drops the lock when its holder dies.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield
    finally:
        os.close(fd)

"""Write files and folders so they appear whole or not at all: write a temp beside the target, then rename or swap."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def process_umask() -> int:
    """The process's file-creation mask, read without changing it (setting it to read it back would change it for
    every thread meanwhile)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o077)  # no /proc: the brief change is to the strictest mask
    os.umask(mask)
    return mask


def published_mode(path: Path) -> int:
    """The mode a file or folder created normally would have under the process's umask (0666 / 0777 minus it):
    temp files and folders are made private (mkstemp, mkdtemp) and get it when they are published."""
    return (0o777 if path.is_dir() else 0o666) & ~process_umask()


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temp path in the target's folder; on success give it the umask's mode and rename it onto `target`,
    on failure delete it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        tmp.chmod(published_mode(tmp))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(target: Path, text: str) -> None:
    """Write text to `target` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def replace_dir(staged: Path, target: Path) -> None:
    """Put a fully written folder in place of `target` (both on one file system), never leaving a half state.

    An existing `target` is swapped with `staged` in one step (Linux `renameat2(RENAME_EXCHANGE)`), so a reader
    always finds `target` whole, old or new, and two publishers at once both succeed (the later one wins). Where
    the system cannot swap, the old folder is renamed away first (a reader may then find `target` missing for the
    moment between the two renames).
    """
    if not staged.is_dir():
        raise FileNotFoundError(errno.ENOENT, "the folder to publish is missing", str(staged))
    target.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(8):  # each pass either publishes or saw another publisher move `target` meanwhile
        if target.exists():
            try:
                swapped = _exchange(staged, target)
            except FileNotFoundError:
                continue  # `target` went away between the check and the swap
            if swapped:
                shutil.rmtree(staged, ignore_errors=True)  # it holds the previous folder now
            else:
                _replace_by_two_renames(staged, target)
            return
        try:
            os.rename(staged, target)
            return
        except OSError as error:
            if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise  # else another publisher put `target` in place first: swap with it
    raise OSError(errno.EBUSY, f"{target} kept changing while it was being replaced")


def _replace_by_two_renames(staged: Path, target: Path) -> None:
    """The old folder renamed aside (a unique name), then the new one into place."""
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    os.rename(target, aside / target.name)
    os.rename(staged, target)
    shutil.rmtree(aside, ignore_errors=True)


_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


@functools.cache
def _renameat2() -> Any:
    """glibc's renameat2 (2.28 and later), or None."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    return getattr(libc, "renameat2", None)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two existing paths in one step; False where the system or the file system cannot."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (
        errno.EINVAL,
        errno.ENOSYS,
        errno.EOPNOTSUPP,
        errno.EPERM,
    ):  # EPERM: a sandbox refusing the call
        return False
    raise OSError(code, os.strerror(code), str(first), None, str(second))


@contextlib.contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a temp folder beside `target`; on success swap it in place of `target` (with replace_dir, with the
    umask's mode: mkdtemp makes it private), on failure delete it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
        tmp.chmod(published_mode(tmp))
        replace_dir(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)

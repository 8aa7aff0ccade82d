"""What tells a file from any other file and from its own earlier versions, for results kept per file."""

from __future__ import annotations

import hashlib
import os
import stat as stat_kind
from pathlib import Path

FileVersion = tuple[str, int, int, int, int]
ENDS_BYTES = 64 * 1024


def file_version(path: Path) -> FileVersion:
    """Resolved path, device, inode, size and modification time (raises OSError for a missing file)."""
    stat = os.stat(path)
    return (str(path.resolve()), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


def file_version_with_ends(path: Path) -> tuple[FileVersion, str]:
    """`file_version` and a digest of the file's first and last 64 KB (all of a small file): a file rewritten in
    place within the clock's tick (a few milliseconds, the resolution of modification times) to the same size
    still tells apart unless only its middle changed. Raises OSError, also for what is not a regular file (a
    pipe's bytes would be consumed)."""
    if not stat_kind.S_ISREG(os.stat(path).st_mode):
        raise OSError(f"{path} is not a regular file")
    version = file_version(path)
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        digest.update(handle.read(ENDS_BYTES))
        if version[3] > ENDS_BYTES:
            handle.seek(max(ENDS_BYTES, version[3] - ENDS_BYTES))
            digest.update(handle.read(ENDS_BYTES))
    return version, digest.hexdigest()

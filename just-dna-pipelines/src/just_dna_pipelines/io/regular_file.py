"""Why a path given as an input file is not one: missing, a folder, or a device, pipe or socket."""

from __future__ import annotations

import stat
from pathlib import Path


def not_a_regular_file(path: Path, shown: str, expected: str, missing: str = "file not found") -> str | None:
    """One line saying why `path` (named `shown` in it) is not a regular file of the `expected` kind; None if it is
    (`missing` opens the line for a path that does not exist).

    `/dev/zero` or a folder exists but is no file to read: saying "not found" of it misleads.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return f"{missing}: {shown}"
    except OSError as exc:
        return f"cannot read {shown}: {exc.strerror or exc}"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return f"{shown} is a folder, not {expected}"
    return f"{shown} is not a regular file (a device, pipe or socket), not {expected}"

"""Input paths the readers can open: Polars and DuckDB take paths as UTF-8 text only."""

from __future__ import annotations

import os
from pathlib import Path

from just_dna_pipelines.errors import VcfError, quoted


def is_utf8_path(path: Path) -> bool:
    """Whether the path's bytes are UTF-8 (a Latin-1 file or folder name is not)."""
    try:
        os.fsencode(path).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def require_utf8_path(path: Path) -> Path:
    """`path` if its bytes are UTF-8, else a one-line error naming it (a Latin-1 file or folder name, say):
    the readers would fail mid-run with an unrelated message."""
    if not is_utf8_path(path):
        raise VcfError(
            f"cannot read {quoted(str(path))}: its path is not valid UTF-8; rename the file (or its folder)"
        )
    return path

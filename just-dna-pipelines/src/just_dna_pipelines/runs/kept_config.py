"""Whether this process may rewrite the configured DAGSTER_HOME's dagster.yaml and workspace.yaml.

The app and the deployment's services write them from their settings (runs/instance.py). A command typed in a
shell with other settings (no DAGSTER_POSTGRES_URL, no JUST_DNA_RUN_MODE=queue) rewrote them for everyone: a lab's
app and daemon then read SQLite storage, or lost their queue, at their next start. Commands run within `kept()`:
they use the files as the app wrote them, and are refused when their storage is another than the home's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

_kept = False


def is_kept() -> bool:
    """Whether the configured home's files are used as they are (within a command)."""
    return _kept


@contextlib.contextmanager
def kept() -> Iterator[None]:
    """Within: the configured home's existing files are not rewritten with this process's settings."""
    global _kept
    before, _kept = _kept, True
    try:
        yield
    finally:
        _kept = before

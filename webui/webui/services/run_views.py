"""Run views already folded in this process: a page that shows a run again (the person went to the sample page and
came back) continues from the events it had read instead of reading and folding the run's whole event log again."""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict

from webui.services.progress import RunView

MAX_VIEWS = 256  # runs remembered; a view is a few kB (its steps and at most MAX_LOG_LINES log lines)

_views: OrderedDict[str, RunView] = OrderedDict()
_lock = threading.Lock()


def view_of(run_id: str, modules: list[str]) -> RunView:
    """A view of the run to fold its newer events into: a copy of the last one remembered for it (same modules),
    or an empty one."""
    with _lock:
        known = _views.get(run_id)
        if known is not None and known.modules == modules:
            _views.move_to_end(run_id)
            return copy.deepcopy(known)
    return RunView(modules=list(modules))


def remember(run_id: str, view: RunView) -> None:
    """Keep a copy of `view` (with every event read so far folded in, and nothing else) for the next page of the run."""
    kept = copy.deepcopy(view)
    with _lock:
        _views[run_id] = kept
        _views.move_to_end(run_id)
        while len(_views) > MAX_VIEWS:
            _views.popitem(last=False)

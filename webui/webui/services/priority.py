"""Keep the web server ahead of pipeline runs for CPU: runs are batch work, clicks are not."""

from __future__ import annotations

import contextlib

import psutil

RUN_WORKER_MODULE = "just_dna_pipelines.runs.worker"
RUN_NICENESS = 10


def lower_run_priority() -> int:
    """Renice this process's pipeline run worker (and the runs it forks, which inherit it); return how many."""
    lowered = 0
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if RUN_WORKER_MODULE in " ".join(child.cmdline()) and child.nice() < RUN_NICENESS:
                child.nice(RUN_NICENESS)
                lowered += 1
    return lowered

"""A sample's claim held by another holder for a moment, as a run that has just ended holds it while it drops or puts
back what it kept."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import dagster as dg


@contextmanager
def claim_let_go_after(
    instance: dg.DagsterInstance, partition_key: str, seconds: float
) -> Iterator[Callable[[], None]]:
    """Hold the sample's claim (on a thread: its own lock, as another process's would be) from entering until
    `seconds` later, or until the function yielded is called; on leaving, wait for it to be let go."""
    from just_dna_pipelines.runs.sample_claim import sample_held

    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with sample_held(instance, partition_key):
            held.set()
            release.wait(30)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(30)
    timer = threading.Timer(seconds, release.set)
    timer.start()
    try:
        yield release.set
    finally:
        release.set()
        timer.cancel()
        thread.join()

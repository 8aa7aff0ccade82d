"""Measure a piece of work: wall time, CPU %, and the true peak RSS sampled while it runs."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from types import TracebackType

import psutil

SAMPLE_INTERVAL_S = 0.02
# Finding child processes reads /proc/<pid>/stat of every process on the machine, which every 20 ms cost a
# whole-genome run most of a second of CPU (and the GIL); children are looked for at this pace instead,
# and the ones found are sampled at every tick.
CHILDREN_INTERVAL_S = 0.5


@dataclass
class ResourceUsage:
    """What a tracked block used."""

    duration_s: float = 0.0
    cpu_percent: float = 0.0
    peak_rss_mb: float = 0.0


class ResourceTracker:
    """Context manager sampling this process's RSS (and its children's) on a thread until the block ends."""

    def __init__(self, interval_s: float = SAMPLE_INTERVAL_S) -> None:
        self._interval = interval_s
        self._process = psutil.Process(os.getpid())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._peak = 0
        self._children: list[psutil.Process] = []
        self._children_at = 0.0
        self.usage = ResourceUsage()

    def _rss(self) -> int:
        now = time.monotonic()
        if now - self._children_at >= CHILDREN_INTERVAL_S:
            self._children = self._process.children(recursive=True)
            self._children_at = now
        total = self._process.memory_info().rss
        for child in self._children:
            try:
                total += child.memory_info().rss
            except psutil.Error:
                continue
        return total

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self._peak = max(self._peak, self._rss())

    def __enter__(self) -> ResourceTracker:
        self._peak = self._rss()
        self._cpu_start = self._process.cpu_times()
        self._start = time.perf_counter()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._children_at = 0.0  # the last sample looks for children afresh
        self._peak = max(self._peak, self._rss())
        duration = time.perf_counter() - self._start
        cpu_end = self._process.cpu_times()
        cpu_used = (cpu_end.user - self._cpu_start.user) + (cpu_end.system - self._cpu_start.system)
        self.usage = ResourceUsage(
            duration_s=round(duration, 3),
            cpu_percent=round(100.0 * cpu_used / duration, 1) if duration > 0 else 0.0,
            peak_rss_mb=round(self._peak / 1024 / 1024, 1),
        )

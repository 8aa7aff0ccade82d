"""When will a queued run start? A plain estimate from how long recent runs took."""

from __future__ import annotations

import heapq
import statistics


def typical_duration(durations: list[float]) -> float | None:
    """The median of recent run durations in seconds, or None without any."""
    return statistics.median(durations) if durations else None


def start_estimates(
    waiting: int, running_elapsed: list[float], typical_s: float | None, slots: int
) -> list[float | None]:
    """Seconds until each of `waiting` queued runs (first in line first) is expected to start.

    Runs start first-come first-served, at most `slots` at once; a running run is expected to take
    `typical_s` in all (one already over that is expected to end any moment), a queued one `typical_s`.
    """
    if typical_s is None:
        return [None] * waiting
    busy = [max(0.0, typical_s - elapsed) for elapsed in running_elapsed]
    heapq.heapify(busy)
    now = 0.0
    estimates: list[float | None] = []
    for _ in range(waiting):
        while len(busy) >= max(1, slots):
            now = max(now, heapq.heappop(busy))
        estimates.append(now)
        heapq.heappush(busy, now + typical_s)
    return estimates

"""Each queued run's place in line and expected wait, from the queue and recent run durations."""

from __future__ import annotations

import time
from collections.abc import Sequence

import dagster as dg

from just_dna_pipelines.runs import tags
from just_dna_pipelines.runs.estimate import start_estimates, typical_duration
from just_dna_pipelines.runs.queue import IN_PROGRESS, LAUNCHERS, QUEUED_LAUNCHERS, waiting_runs
from just_dna_pipelines.runs.storage_reads import shared_read

RECENT_RUNS = 20


def recent_durations(instance: dg.DagsterInstance) -> list[float]:
    """How long our latest successful runs took, in seconds."""
    filters = dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS], tags={tags.LAUNCHER: LAUNCHERS})
    records = instance.get_run_records(filters=filters, limit=RECENT_RUNS)
    return [r.end_time - r.start_time for r in records if r.start_time and r.end_time]


Positions = dict[str, tuple[int, float | None]]


def queue_positions(instance: dg.DagsterInstance, slots: int, joining: Sequence[str] = ()) -> Positions:
    """Run id -> (position, 1 = next to start; expected seconds until it starts, or None) for queued runs.

    `joining`: accepted runs not in Dagster yet (pending.py), behind every queued run.

    Every queued run's page and every sample page with a queued run asks this (three queries, ~36 ms on SQLite):
    an answer is shared for a moment while the queue is unchanged (storage_reads.py), its estimates moved on by
    its age.
    """
    answer, age = shared_read(
        instance, ("queue", slots, tuple(joining)), lambda: _queue_positions(instance, slots, joining)
    )
    return {
        run_id: (place, None if wait is None else max(wait - age, 0.0))
        for run_id, (place, wait) in answer.items()
    }


def _queue_positions(instance: dg.DagsterInstance, slots: int, joining: Sequence[str]) -> Positions:
    """`queue_positions`, read now."""
    waiting = [run.run_id for run in waiting_runs(instance, QUEUED_LAUNCHERS)]
    if not waiting and not joining:
        return {}
    now = time.time()
    filters = dg.RunsFilter(statuses=IN_PROGRESS, tags={tags.LAUNCHER: LAUNCHERS})
    in_progress = instance.get_run_records(filters)
    # An accepted run may be in Dagster already for a moment before its pending record goes.
    known = {*waiting, *(r.dagster_run.run_id for r in in_progress)}
    waiting += [run_id for run_id in joining if run_id not in known]
    # A run still STARTING has not begun its work: it counts as just started.
    elapsed = [now - (r.start_time or now) for r in in_progress]
    estimates = start_estimates(len(waiting), elapsed, typical_duration(recent_durations(instance)), slots)
    return {
        run_id: (i + 1, estimate) for i, (run_id, estimate) in enumerate(zip(waiting, estimates, strict=True))
    }

"""Plain records the service hands to the web app: runs and their progress events."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProgressEvent:
    """One progress line of a run, in order."""

    cursor: int  # strictly increasing within a run; pass the last one back to get newer events
    timestamp: float
    step: str | None
    kind: str  # run_start, step_start, step_success, step_failure, materialization, log, run_success, run_failure
    level: str  # "info", "warning", "error"
    message: str


@dataclass(frozen=True)
class RunInfo:
    """A run of the pipeline for one sample."""

    run_id: str
    partition_key: str
    job_name: str
    status: str  # "queued", "starting", "running", "success", "failure", "canceled"
    modules: list[str]
    started_at: float | None
    ended_at: float | None
    error: str | None = None
    queue_position: int | None = None  # 1 = next to start; None when not queued
    estimated_start_s: float | None = (
        None  # expected seconds until it starts, from recent runs; None if unknown
    )

    @property
    def finished(self) -> bool:
        """Whether the run has ended, one way or another."""
        return self.status in {"success", "failure", "canceled"}

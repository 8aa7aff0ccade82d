"""Read a run's status and progress events from the instance, in terms the web app and CLI can show."""

from __future__ import annotations

import logging

import dagster as dg
from dagster._core.storage.event_log.base import EventLogCursor

from just_dna_pipelines.runs import tags
from just_dna_pipelines.runs.dagster_config import QUEUE_LAUNCHER
from just_dna_pipelines.runs.models import ProgressEvent, RunInfo

EVENT_KINDS = {
    dg.DagsterEventType.RUN_START.value: "run_start",
    dg.DagsterEventType.STEP_START.value: "step_start",
    dg.DagsterEventType.STEP_SUCCESS.value: "step_success",
    dg.DagsterEventType.STEP_FAILURE.value: "step_failure",
    dg.DagsterEventType.ASSET_MATERIALIZATION.value: "materialization",
    dg.DagsterEventType.RUN_SUCCESS.value: "run_success",
    dg.DagsterEventType.RUN_FAILURE.value: "run_failure",
    dg.DagsterEventType.RUN_CANCELED.value: "run_canceled",
}
STATUS_NAMES = {
    dg.DagsterRunStatus.NOT_STARTED: "queued",
    dg.DagsterRunStatus.QUEUED: "queued",
    dg.DagsterRunStatus.STARTING: "starting",
    dg.DagsterRunStatus.STARTED: "running",
    dg.DagsterRunStatus.SUCCESS: "success",
    dg.DagsterRunStatus.FAILURE: "failure",
    dg.DagsterRunStatus.CANCELING: "running",  # until its process has stopped
    dg.DagsterRunStatus.CANCELED: "canceled",
}


DEAD_MESSAGE = "the run's process stopped unexpectedly (killed or crashed); press Run to try again"
INTERRUPTED = "DagsterExecutionInterruptedError"  # Dagster's name for a run stopped by a signal
FAILURE_REASON = "dagster/failure_reason"


def user_error_message(error_text: str) -> str:
    """The last meaningful line of a step error, without the exception's module path."""
    lines = [line.strip() for line in error_text.strip().splitlines() if line.strip()]
    if not lines:
        return "the run failed"
    last = lines[0] if lines[0].count(":") else lines[-1]
    head, _, rest = last.partition(": ")
    return rest if rest and "." in head and " " not in head else last


def failure_message(error: object) -> str:
    """The user-facing message of a step failure: the innermost cause (our PipelineError), one line."""
    if getattr(error, "cls_name", None) == INTERRUPTED:
        return DEAD_MESSAGE  # stopped by a signal nobody asked for (a cancel ends as "canceled")
    while getattr(error, "cause", None) is not None:
        error = error.cause  # type: ignore[attr-defined]
    return user_error_message(str(getattr(error, "message", "") or "the run failed"))


def entry_event(entry: dg.EventLogEntry, cursor: int = -1) -> ProgressEvent | None:
    """The progress event of one event log entry (None for kinds nobody shows); `cursor` is its storage id."""
    event = entry.dagster_event
    level = logging.getLevelName(entry.level).lower() if isinstance(entry.level, int) else str(entry.level)
    if event is None:
        return ProgressEvent(cursor, entry.timestamp, entry.step_key, "log", level, entry.user_message)
    kind = EVENT_KINDS.get(event.event_type_value)
    if kind is None:
        return None
    message = entry.user_message or event.message or kind
    if kind == "step_failure" and event.step_failure_data and event.step_failure_data.error:
        message = failure_message(event.step_failure_data.error)
    elif kind == "materialization" and event.asset_key is not None:
        message = f"wrote {event.asset_key.to_user_string()}"
    return ProgressEvent(cursor, entry.timestamp, entry.step_key, kind, level, message)


def run_events(instance: dg.DagsterInstance, run_id: str, after_cursor: int = -1) -> list[ProgressEvent]:
    """Events of a run with a cursor above `after_cursor`, oldest first (only newer records are read)."""
    start = EventLogCursor.from_storage_id(after_cursor).to_string() if after_cursor >= 0 else None
    connection = instance.get_records_for_run(run_id=run_id, cursor=start, ascending=True)
    records = list(connection.records)
    while connection.has_more:
        connection = instance.get_records_for_run(run_id=run_id, cursor=connection.cursor, ascending=True)
        records.extend(connection.records)
    events = (
        entry_event(record.event_log_entry, record.storage_id)
        for record in records
        if record.storage_id > after_cursor
    )
    return [event for event in events if event is not None]


def run_info(
    instance: dg.DagsterInstance,
    run: dg.DagsterRun,
    queue: dict[str, tuple[int, float | None]] | None = None,
    record: dg.RunRecord | None = None,
) -> RunInfo:
    """A run record as RunInfo, with the first step error (or the reason we ended it) as the run's error.

    `queue` (from positions.queue_positions) gives a queued run its place in line and expected wait; `record`
    is the run's record when the caller read `run` from it (its start and end times; read here otherwise).
    """
    if record is None or record.dagster_run is not run:
        record = instance.get_run_record_by_id(run.run_id)
    status = STATUS_NAMES.get(run.status, run.status.value.lower())
    error = None
    if status == "failure" and run.tags.get(FAILURE_REASON) == "UNEXPECTED_TERMINATION":
        error = DEAD_MESSAGE  # Dagster's words for a run stopped by a signal nobody asked for
    elif status == "failure":
        failures = [e for e in run_events(instance, run.run_id) if e.kind == "step_failure"]
        error = failures[0].message if failures else run.tags.get(tags.ERROR)
        if error is None and run.tags.get(tags.LAUNCHER) == QUEUE_LAUNCHER:
            from just_dna_pipelines.runs.dagster_queue import crash_reason

            error = DEAD_MESSAGE if crash_reason(instance, run) else None
        error = error or "the run failed"
    modules_tag = run.tags.get(tags.MODULES, "")
    position, estimate = (queue or {}).get(run.run_id, (None, None)) if status == "queued" else (None, None)
    return RunInfo(
        run_id=run.run_id,
        partition_key=run.tags.get(tags.PARTITION, ""),
        job_name=run.job_name,
        status=status,
        modules=[m for m in modules_tag.split(",") if m],
        started_at=record.start_time if record else None,
        ended_at=record.end_time if record else None,
        error=error,
        queue_position=position,
        estimated_start_s=estimate,
    )

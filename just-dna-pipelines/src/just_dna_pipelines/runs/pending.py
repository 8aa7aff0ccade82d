"""Runs accepted but not yet in Dagster's storage: a small file per run, for the moment the worker creates it.

Creating a Dagster run costs a few hundred milliseconds of CPU (its event database, snapshots, planned
events), more on a busy machine. So the worker accepts a run, says so at once, then creates it; meanwhile
`DAGSTER_HOME/run-queue/<run id>.json` stands for the run (any process can read it: the run is "queued").
If creating it fails, the file keeps the error and the run reads as failed until its sample is deleted.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from just_dna_pipelines.io.atomic import atomic_write_text
from just_dna_pipelines.runs.config import RunRequest
from just_dna_pipelines.runs.models import RunInfo

FOLDER = "run-queue"


def _path(home: Path, run_id: str) -> Path:
    return home / FOLDER / f"{uuid.UUID(run_id)}.json"  # a run id never becomes an arbitrary path


def add_pending(home: Path, run_id: str, request: RunRequest) -> None:
    """Record an accepted run before it exists in Dagster."""
    entry = {
        "run_id": run_id,
        "partition_key": request.partition_key,
        "job_name": request.job_name,
        "modules": request.module_names(),  # as the run's tags will say ("ensembl" included)
        "submitted_at": time.time(),
        "error": None,
        "request": asdict(request),  # so another worker can create it if this one dies first
    }
    atomic_write_text(_path(home, run_id), json.dumps(entry))


def fail_pending(home: Path, run_id: str, error: str) -> None:
    """Keep an accepted run that could not be created, with the reason."""
    entry = read_pending(home, run_id)
    if entry is not None:
        atomic_write_text(_path(home, run_id), json.dumps({**entry, "error": error}))


def remove_pending(home: Path, run_id: str) -> None:
    """Forget an accepted run (it exists in Dagster now, or its sample is deleted)."""
    _path(home, run_id).unlink(missing_ok=True)


def read_pending(home: Path, run_id: str) -> dict[str, Any] | None:
    """An accepted run's record, or None (also for a string that is no run id)."""
    try:
        path = _path(home, run_id)
    except ValueError:
        return None
    try:
        entry: dict[str, Any] = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None
    return entry


def accepted_runs(home: Path) -> list[dict[str, Any]]:
    """Every accepted run not in Dagster yet, first accepted first (the order they join the queue)."""
    folder = home / FOLDER
    entries = [read_pending(home, path.stem) for path in folder.glob("*.json")] if folder.is_dir() else []
    return sorted((e for e in entries if e is not None), key=lambda e: e["submitted_at"])


def orphaned(home: Path, older_than_s: float) -> list[dict[str, Any]]:
    """Accepted runs nobody created within `older_than_s` (their worker died): to be created now."""
    cutoff = time.time() - older_than_s
    return [
        e for e in accepted_runs(home) if not e["error"] and e["submitted_at"] < cutoff and "request" in e
    ]


def joining_queue(home: Path) -> list[str]:
    """The accepted runs about to join the queue (not failed), in order."""
    return [e["run_id"] for e in accepted_runs(home) if not e["error"]]


def pending_of(home: Path, partition_key: str) -> list[dict[str, Any]]:
    """The accepted runs of one sample, newest first."""
    return [e for e in reversed(accepted_runs(home)) if e["partition_key"] == partition_key]


def pending_info(entry: dict[str, Any]) -> RunInfo:
    """An accepted run as RunInfo: queued (its place in line not known yet), or failed to be created."""
    return RunInfo(
        run_id=entry["run_id"],
        partition_key=entry["partition_key"],
        job_name=entry["job_name"],
        status="failure" if entry["error"] else "queued",
        modules=list(entry["modules"]),
        started_at=None,
        ended_at=None,
        error=entry["error"],
    )

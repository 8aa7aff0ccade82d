"""Whether a run's events may have changed, told from its event files' metadata without opening a database.

A page following a run used to ask the event log for new records five times a second; on SQLite storage each
ask opens the run's database under the storage's process-wide lock (5 ms), and ten followed runs kept a
core a quarter busy and the web app's threads queued. Dagster's SQLite storage keeps one database per run
(with its write-ahead log beside it while written), and every write changes the size or the modification
time of one of the two files, so a follower reads the records only when their stat changed. Other
storages (PostgreSQL) have no such files: `event_files` is empty and the follower reads each time.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage

from just_dna_pipelines.runs.sqlite_pool import SQLITE_PREFIX

WAL_SUFFIX = "-wal"  # SQLite's write-ahead log beside a database in WAL mode

Signature = tuple[int, ...]


def event_files(instance: dg.DagsterInstance, run_id: str) -> tuple[Path, ...]:
    """The files holding a run's events (its database and write-ahead log), or () when the storage has none."""
    storage = instance.event_log_storage
    if not isinstance(storage, SqliteEventLogStorage):  # the consolidated variant shares one file among runs
        return ()
    database = Path(storage.path_for_shard(run_id))
    return with_wal(database)


def with_wal(database: Path) -> tuple[Path, Path]:
    """A SQLite database and its write-ahead log beside it."""
    return (database, database.with_name(database.name + WAL_SUFFIX))


def run_storage_files(instance: dg.DagsterInstance) -> tuple[Path, ...]:
    """The files of the run storage (its database and write-ahead log; every run's status change writes them), or
    () when the storage is not one SQLite file (PostgreSQL)."""
    storage = instance.run_storage
    if not isinstance(storage, SqliteRunStorage):
        return ()
    # The storage names its database only in its connection string (no public accessor).
    database = Path(storage._conn_string.removeprefix(SQLITE_PREFIX))
    return with_wal(database)


def files_signature(paths: tuple[Path, ...]) -> Signature | None:
    """Size and modification time (ns) of each file, -1s for a missing one: equal values, no write between.
    None for no files (a storage without them: nothing tells a change, so read each time).

    A write can in rare cases leave both unchanged (a reused write-ahead log within one clock tick), so a
    follower still reads the records every few seconds whatever the signature says.
    """
    if not paths:
        return None
    values: list[int] = []
    for path in paths:
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            values += (-1, -1)
        else:
            values += (stat.st_size, stat.st_mtime_ns)
    return tuple(values)


def may_hold_events(signature: Signature | None) -> bool:
    """False when the signature shows the run's database does not exist yet (a queued run: nothing to read,
    and reading would create the database, with Dagster's schema check, from the reading process)."""
    return signature is None or signature[:2] != (-1, -1)

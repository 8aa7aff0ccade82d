"""Forgetting runs: what the instance keeps of a deleted sample's runs goes, down to the bytes of its databases.

Dagster's `delete_run` removes a run, its tags and its events, and keeps three things that still name the sample
(its partition key, its file and sample column in the materializations' metadata): the asset index's cached last
materialization and partition status of every asset the run materialized, the run's own event database on SQLite
storage (emptied, with its write-ahead log), and the deleted rows' bytes in the SQLite files' free pages and
write-ahead logs, readable by anyone who copies DAGSTER_HOME. `forget_run` removes the first two;
`compact_storage`, called once a deletion is done, rewrites the shared SQLite databases so the third goes too.
PostgreSQL storage reclaims its deleted rows itself (autovacuum); only the rows are ours to remove there.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from pathlib import Path

import dagster as dg
from dagster._core.storage.event_log.schema import AssetKeyTable
from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from sqlalchemy import or_

from just_dna_pipelines.runs.event_files import run_storage_files, with_wal
from just_dna_pipelines.runs.sqlite_pool import ENGINES, SQLITE_PREFIX

SHM_SUFFIX = "-shm"  # SQLite's shared-memory index beside a database in WAL mode
BUSY_TIMEOUT_S = 30.0  # a run writing its events holds the write lock for milliseconds at a time

log = logging.getLogger(__name__)


def forget_run(instance: dg.DagsterInstance, run_id: str) -> None:
    """Delete a run with its events, its captured output, its event database and its asset index entries.

    The run must have ended (a running one would write its events again).
    """
    instance.delete_run(run_id)
    _forget_asset_index(instance, run_id)
    _remove_event_database(instance, run_id)
    try:  # a command's run captured its summary lines (the sample's paths)
        instance.compute_log_manager.delete_logs(prefix=[run_id])
    except (NotImplementedError, OSError):
        log.warning("the captured logs of run %s could not be deleted", run_id)


def compact_storage(instance: dg.DagsterInstance) -> None:
    """Rewrite the instance's shared SQLite databases (runs, event index, schedules) so no deleted row's bytes stay
    in their free pages or write-ahead logs; nothing on other storages. A database another process keeps busy past
    the timeout is left as it is, with a warning (its next compaction covers it)."""
    for database in _shared_databases(instance):
        if not database.is_file():
            continue
        try:
            connection = sqlite3.connect(database, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as error:
            log.warning("could not open %s to compact it: %s", database, error)
            continue
        try:
            connection.execute("VACUUM")
            busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if busy:
                log.warning(
                    "%s: its write-ahead log is in use and keeps old pages until the next compaction",
                    database,
                )
        except sqlite3.Error as error:
            log.warning("could not compact %s: %s", database, error)
        finally:
            connection.close()


def _forget_asset_index(instance: dg.DagsterInstance, run_id: str) -> None:
    """Clear the asset index's cached last materialization where this run made it (Dagster then reads the latest
    remaining event instead) and every cached partition status (it lists partition keys; recomputed when read)."""
    storage = instance.event_log_storage
    if not isinstance(storage, SqlEventLogStorage):
        return
    # asked before the connection opens: the storage's lock is not reentrant
    status_cache = storage.can_read_asset_status_cache()
    with storage.index_connection() as connection:
        connection.execute(
            AssetKeyTable.update()
            .where(
                or_(
                    AssetKeyTable.c.last_run_id == run_id,
                    AssetKeyTable.c.last_materialization.contains(run_id, autoescape=True),
                )
            )
            .values(last_materialization=None, last_run_id=None)
        )
        if status_cache:
            connection.execute(AssetKeyTable.update().values(cached_status_data=None))


def _remove_event_database(instance: dg.DagsterInstance, run_id: str) -> None:
    """Remove the run's own event database (SQLite storage keeps one per run; delete_run leaves it empty)."""
    storage = instance.event_log_storage
    if not isinstance(storage, SqliteEventLogStorage):
        return
    database = Path(storage.path_for_shard(run_id))
    ENGINES.dispose(storage.conn_string_for_shard(run_id))  # this process's kept connection to it, if any
    for path in (*with_wal(database), database.with_name(database.name + SHM_SUFFIX)):
        path.unlink(missing_ok=True)
    # The storage remembers which run databases it created tables in; a later read of this run id must make a
    # fresh one rather than open a file without tables.
    with contextlib.suppress(AttributeError, KeyError):
        storage._initialized_dbs.discard(run_id)  # type: ignore[attr-defined]


def _shared_databases(instance: dg.DagsterInstance) -> list[Path]:
    """The SQLite files the instance's runs, event index and schedules share ([] for other storages)."""
    databases = list(run_storage_files(instance)[:1])
    events = instance.event_log_storage
    if isinstance(events, SqliteEventLogStorage):
        databases.append(Path(events.path_for_shard(INDEX_SHARD_NAME)))
    schedules = instance.schedule_storage
    if isinstance(schedules, SqliteScheduleStorage):
        databases.append(Path(schedules._conn_string.removeprefix(SQLITE_PREFIX)))  # no public accessor
    return databases

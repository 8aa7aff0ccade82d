"""Forgetting runs: what the instance keeps of a deleted sample's runs goes, down to the bytes of its databases.

Dagster's `delete_run` removes a run, its tags and its events, and keeps three things that still name the sample
(its partition key, its file and sample column in the materializations' metadata): the asset index's cached last
materialization and partition status of every asset the run materialized, the run's own event database on SQLite
storage (emptied, with its write-ahead log), and the deleted rows' bytes in the databases' files (SQLite's free
pages and write-ahead logs; PostgreSQL's table and index pages, which autovacuum does not overwrite), readable by
anyone who copies DAGSTER_HOME or the PostgreSQL data directory. `forget_run` removes the first two;
`compact_storage`, called once a deletion is done, rewrites the databases so the third goes too (on PostgreSQL
see `io.postgres_rewrite` for what stays out of reach: its write-ahead log segments until recycled).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from pathlib import Path

import dagster as dg
from dagster._core.storage.event_log.schema import (
    AssetEventTagsTable,
    AssetKeyTable,
    ConcurrencySlotsTable,
    DynamicPartitionsTable,
    PendingStepsTable,
    SqlEventLogStorageTable,
)
from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._core.storage.runs.schema import RunsTable, RunTagsTable
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage
from sqlalchemy import or_

from just_dna_pipelines.io.postgres_rewrite import rewrite_tables
from just_dna_pipelines.runs.event_files import run_storage_files, with_wal
from just_dna_pipelines.runs.sqlite_pool import ENGINES, SQLITE_PREFIX

SHM_SUFFIX = "-shm"  # SQLite's shared-memory index beside a database in WAL mode
BUSY_TIMEOUT_S = 30.0  # a run writing its events holds the write lock for milliseconds at a time

POSTGRES_STORAGES = (PostgresRunStorage, PostgresEventLogStorage)
# What a run's deletion changes on PostgreSQL storage: the run and its tags (cascaded), its events and their asset
# tags, the asset index (forget_run), the sample's partition, its concurrency slots and pending steps.
DELETION_TABLES = tuple(
    table.name
    for table in (
        RunsTable,
        RunTagsTable,
        SqlEventLogStorageTable,
        AssetEventTagsTable,
        AssetKeyTable,
        DynamicPartitionsTable,
        ConcurrencySlotsTable,
        PendingStepsTable,
    )
)

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
    in their free pages or write-ahead logs, or on PostgreSQL storage the tables a run's deletion changes. A
    database or table another process keeps busy past the timeout is left as it is, with a warning (its next
    compaction covers it)."""
    for url in _postgres_urls(instance):
        rewrite_tables(url, DELETION_TABLES)
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


def _postgres_urls(instance: dg.DagsterInstance) -> set[str]:
    """The PostgreSQL databases of the instance's run and event storages (none on SQLite storage)."""
    storages = (instance.run_storage, instance.event_log_storage)
    return {storage.postgres_url for storage in storages if isinstance(storage, POSTGRES_STORAGES)}


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

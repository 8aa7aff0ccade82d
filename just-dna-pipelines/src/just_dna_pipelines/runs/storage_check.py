"""Health of the instance's SQLite storage: one alembic revision per database, the current one.

When several processes create a fresh DAGSTER_HOME at the same moment, Dagster's SQLite storages race:
one process stamps the head revision while another, seeing the tables but no version yet, stamps an
older "last known" revision, leaving two rows in `alembic_version`. Dagster then refuses to open the
database ("more than one head present") on every later start. The rows are the only damage: the tables
were created from the current schema. So when every table and column of the current schema is present
and the rows are the head plus older revisions of the same history, keeping only the head row is a safe
repair. Anything else (an unreadable file, an unknown revision, a missing table) is reported with
what to do, never guessed at.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import sqlalchemy as sa

from just_dna_pipelines.errors import PipelineError


@dataclass(frozen=True)
class StorageDb:
    """One SQLite database of Dagster's default storage, and the schema it should hold."""

    relative_path: str
    metadata: sa.MetaData


RUNS_DB, EVENT_INDEX_DB, SCHEDULES_DB = STORAGE_PATHS = (
    "history/runs.db",
    "history/runs/index.db",
    "schedules/schedules.db",
)


def storage_dbs() -> list[StorageDb]:
    """The three long-lived databases of Dagster's default SQLite storage under DAGSTER_HOME."""
    from dagster._core.storage.event_log.schema import SqlEventLogStorageMetadata
    from dagster._core.storage.runs.schema import RunStorageSqlMetadata
    from dagster._core.storage.schedules.schema import ScheduleStorageSqlMetadata

    return [
        StorageDb(RUNS_DB, RunStorageSqlMetadata),
        StorageDb(EVENT_INDEX_DB, SqlEventLogStorageMetadata),
        StorageDb(SCHEDULES_DB, ScheduleStorageSqlMetadata),
    ]


@cache
def known_revisions() -> tuple[str, list[str]]:
    """The head revision of the installed Dagster's storage schema and every revision before it."""
    from alembic.script import ScriptDirectory
    from dagster._core.storage.runs.sqlite import sqlite_run_storage
    from dagster._core.storage.sql import get_alembic_config

    script = ScriptDirectory.from_config(get_alembic_config(sqlite_run_storage.__file__))
    head = script.get_current_head()
    assert head is not None
    return head, [rev.revision for rev in script.walk_revisions("base", head)]


def damaged(home: Path, db: Path, reason: str) -> PipelineError:
    """The one-line error for storage that cannot be repaired safely: what is wrong and what to do."""
    return PipelineError(
        f"the Dagster storage in {home} is damaged ({db.relative_to(home)}: {reason}); stop the app, "
        f"move the folder aside (mv {home} {home}.broken) and start again: a fresh one is created "
        "(the run history in it is lost; samples and results are kept)"
    )


def alembic_rows(connection: sqlite3.Connection) -> list[str] | None:
    """The rows of alembic_version, or None when the table is missing."""
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "alembic_version" not in tables:
        return None
    return [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]


def _schema_is_current(connection: sqlite3.Connection, metadata: sa.MetaData) -> bool:
    """Whether every table and column of the current schema exists in the database."""
    for table in metadata.tables.values():
        columns = {row[1] for row in connection.execute(f"PRAGMA table_info('{table.name}')")}
        if not columns or not {c.name for c in table.columns} <= columns:
            return False
    return True


def check_storage(home: Path) -> list[str]:
    """Check (and where safe, repair) the SQLite storage under `home`; return the repairs made.

    Raises PipelineError when a database is unreadable or in a state only a person should resolve.
    Databases not created yet are skipped (Dagster creates them); so is non-SQLite storage.
    """
    head, history = known_revisions()
    repairs: list[str] = []
    for db in storage_dbs():
        path = home / db.relative_path
        if not path.exists():
            continue
        try:
            connection = sqlite3.connect(path, timeout=30)
            try:
                repairs.extend(_check_one(home, path, db, connection, head, history))
            finally:
                connection.close()
        except sqlite3.DatabaseError as exc:
            raise damaged(home, path, str(exc)) from exc
    return repairs


def _check_one(
    home: Path, path: Path, db: StorageDb, connection: sqlite3.Connection, head: str, history: list[str]
) -> list[str]:
    versions = alembic_rows(connection)
    if versions is None or (len(versions) == 1 and versions[0] in history):
        return []  # missing: Dagster stamps it; behind head: the instance is migrated afterwards
    unknown = [v for v in versions if v not in history]
    if unknown:
        raise damaged(home, path, f"schema revision {', '.join(unknown)} is unknown to this Dagster")
    if not versions:
        return []  # an empty version table is what Dagster stamps on next open
    if head not in versions or not _schema_is_current(connection, db.metadata):
        raise damaged(home, path, f"{len(versions)} schema revisions recorded and the schema is not current")
    with connection:
        connection.execute("DELETE FROM alembic_version WHERE version_num != ?", (head,))
    return [
        f"{path.relative_to(home)}: kept schema revision {head}, dropped {len(versions) - 1} stale row(s)"
    ]


def storage_revisions(home: Path) -> dict[str, list[str]]:
    """The alembic_version rows of each existing storage database (for checks and tests)."""
    found: dict[str, list[str]] = {}
    for relative in STORAGE_PATHS:
        path = home / relative
        if path.exists():
            connection = sqlite3.connect(path, timeout=30)
            try:
                found[relative] = alembic_rows(connection) or []
            finally:
                connection.close()
    return found

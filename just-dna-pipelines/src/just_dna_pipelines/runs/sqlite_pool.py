"""Dagster's SQLite storages with their database connections kept open, one pool per database and process.

Dagster's SQLite storages create a new SQLAlchemy engine for every stored event and every query, open a
connection, and close it again. Closing the last connection to a database in WAL mode makes SQLite checkpoint
the write-ahead log into the database and delete it, with its fsyncs, so each of a run's ~100 events paid an
engine, an open and a checkpoint: a quarter of a web run's time (bench/RESULTS.md). These subclasses keep one
engine per database file for the life of the process, whose pooled connections stay open: a write is a commit
to the log, checkpoints happen when the log has grown (SQLite's default, every 1,000 pages).

What stays as it was: the files, their schema and migrations (the classes only change how connections are
made), so the Dagster UI and daemon, which open the same files with Dagster's own classes, work beside them;
a stored event still touches the run's database file, which the Dagster UI watches for live run logs.

Per process, and never across a fork: SQLite keeps its file locks in a table of the process, which a forked
child inherits, so a child opening a database its parent has open would believe it holds locks the kernel never
gave it, and the parent closing its connection would then checkpoint and delete a log the child still writes
(a run's last events lost). So every kept connection is closed just before a fork (the worker forks each run;
the parent reopens on its next query, a few milliseconds), and the child starts with no engines. Each run has its
own event database, so engines are kept for the most recently used `MAX_DATABASES` only, and one whose file was
replaced is made anew.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster._core.storage.sqlite import create_db_conn_string
from dagster._core.storage.sqlite_storage import (
    DagsterSqliteStorage,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)
from dagster._serdes import ConfigurableClassData
from dagster.version import __version__ as dagster_version
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from just_dna_pipelines.io.atomic import atomic_path
from just_dna_pipelines.runs.storage_check import alembic_rows

if TYPE_CHECKING:
    from dagster._core.events.log import EventLogEntry
    from sqlalchemy.engine import Connection, Engine

# Databases whose engines a process keeps (each keeps ~3 files open); the least recently used go.
MAX_DATABASES = 24
SQLITE_PREFIX = "sqlite:///"
# The run-database template as kept beside the run databases, per Dagster version (see kept_template).
TEMPLATE_FILE = ".run-database-template-{version}.sqlite3"
MAX_TEMPLATE_BYTES = 16 << 20  # an empty run database is ~0.1 MB
SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass
class _Kept:
    """An engine and the identity (device, inode) of the database file its connections have open."""

    engine: Engine
    file: tuple[int, int] | None


def _file_identity(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (stat.st_dev, stat.st_ino)


class _Engines:
    """One engine per database file in this process, the `MAX_DATABASES` most recently used.

    An engine whose file was deleted or replaced (a wiped or moved-aside DAGSTER_HOME, a test's fresh home
    at the same path) is dropped when next asked for: its open connections would read and write the old file.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: OrderedDict[str, _Kept] = OrderedDict()

    def get(self, conn_string: str, **connect_args: Any) -> Engine:
        """The engine of `conn_string` (a SQLite file), created on first use or when its file changed."""
        file = _file_identity(conn_string.removeprefix(SQLITE_PREFIX))
        with self._lock:
            kept = self._kept.get(conn_string)
            if kept is not None and kept.file is not None and kept.file != file:
                self._kept.pop(conn_string).engine.dispose()
                kept = None
            if kept is None:
                engine = create_engine(conn_string, connect_args=connect_args, pool_size=1, max_overflow=8)
                kept = self._kept[conn_string] = _Kept(engine, file)
            elif kept.file is None:
                kept.file = file  # created by its first connection
            self._kept.move_to_end(conn_string)
            while len(self._kept) > MAX_DATABASES:
                self._kept.popitem(last=False)[1].engine.dispose()
            return kept.engine

    def dispose(self, prefix: str) -> None:
        """Close the connections to every database whose connection string starts with `prefix`."""
        with self._lock:
            for conn_string in [c for c in self._kept if c.startswith(prefix)]:
                self._kept.pop(conn_string).engine.dispose()

    def close_before_fork(self) -> None:
        """Close every kept connection (see the module's docstring), holding the lock through the fork."""
        self._lock.acquire()
        for kept in self._kept.values():
            kept.engine.dispose()
        self._kept = OrderedDict()

    def after_fork(self) -> None:
        """In both processes after a fork: let go of the lock taken before it."""
        self._lock.release()

    def databases(self) -> list[str]:
        """The connection strings of the databases this process keeps connections to, least recently used first."""
        with self._lock:
            return list(self._kept)


ENGINES = _Engines()
os.register_at_fork(
    before=ENGINES.close_before_fork, after_in_parent=ENGINES.after_fork, after_in_child=ENGINES.after_fork
)


@contextmanager
def _transaction(engine: Engine) -> Iterator[Connection]:
    """A pooled connection in a transaction, committed when the block ends without an error."""
    with engine.connect() as conn, conn.begin():
        yield conn


@dataclass(frozen=True)
class RunDatabaseTemplate:
    """An empty run event database as Dagster creates it (tables, WAL mode, schema revision), as bytes."""

    content: bytes
    revision: str


@cache
def run_database_template() -> RunDatabaseTemplate:
    """The template, made once per process by Dagster's own code in a temporary folder.

    The run worker makes it before it forks, so a run creates its database by writing these bytes.
    """
    with tempfile.TemporaryDirectory(prefix="run-db-template-") as folder:
        path = Path(folder) / "template.db"
        engine = create_engine(f"{SQLITE_PREFIX}{path}", poolclass=NullPool)
        try:
            # Dagster's own creation of a run database. It uses nothing of the storage object, and a whole
            # storage would first create and index a database of its own (0.25 s here).
            SqliteEventLogStorage._initdb(SqliteEventLogStorage.__new__(SqliteEventLogStorage), engine)
            [revision] = _revisions(engine) or []  # one row, as Dagster stamps it (else ValueError)
        finally:
            engine.dispose()  # the last connection closed: the log is checkpointed into the file
        return RunDatabaseTemplate(path.read_bytes(), revision)


@cache
def kept_template(folder: str) -> RunDatabaseTemplate:
    """The template as kept in the run databases' `folder` by an earlier process of this Dagster version, or
    made (run_database_template) and kept there: making it costs a command 0.1-0.17 s and loading Alembic.

    Its name does not end in .db, which Dagster takes for a run's database in that folder.
    """
    path = Path(folder) / TEMPLATE_FILE.format(version=dagster_version)
    kept = _read_template(path)
    if kept is not None:
        return kept
    template = run_database_template()
    # a folder not writable: made again by the next process
    with suppress(OSError), atomic_path(path) as tmp:
        tmp.write_bytes(template.content)
    return template


def _read_template(path: Path) -> RunDatabaseTemplate | None:
    """A kept template: a SQLite file of bounded size with one schema revision; None if absent or not one."""
    try:
        with open(path, "rb") as handle:
            content = handle.read(MAX_TEMPLATE_BYTES + 1)
    except OSError:
        return None
    if len(content) > MAX_TEMPLATE_BYTES or not content.startswith(SQLITE_MAGIC):
        return None
    try:
        # immutable: no lock, no write-ahead log, nothing written beside the file
        with closing(sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)) as conn:
            rows = alembic_rows(conn)
    except sqlite3.Error:
        return None
    if rows is None or len(rows) != 1 or not isinstance(rows[0], str) or not rows[0]:
        return None
    return RunDatabaseTemplate(content, rows[0])


def create_run_database(path: str) -> bool:
    """Create a run's event database from the template unless it exists, atomically (a reader never sees part
    of one, and of two processes creating it at once, one wins and the other keeps its file); whether it did.

    Where that cannot be done (no hard links on the file system, no template) nothing is created here, and
    Dagster's own code creates the database as it always did.
    """
    if os.path.exists(path):
        return False
    temporary = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        template = usable_template(os.path.dirname(path))
        if template is None:
            return False
        with open(temporary, "wb") as out:
            out.write(template.content)
            out.flush()
            os.fsync(out.fileno())  # linked only once on disk: never an empty database after a power cut
        os.link(temporary, path)
        return True
    except OSError:
        return False  # it exists (another process won), or no hard links here: Dagster creates it
    finally:
        with suppress(FileNotFoundError):
            os.unlink(temporary)


def usable_template(folder: str) -> RunDatabaseTemplate | None:
    """The template for the run databases in `folder`, or None where it cannot be made (no writable temporary
    folder, no stamp)."""
    try:
        return kept_template(folder)
    except (OSError, SQLAlchemyError, ValueError):
        return None


def _revisions(engine: Engine) -> list[str] | None:
    """The rows of the database's alembic_version, or None without the table."""
    try:
        with engine.connect() as conn:
            return list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except OperationalError:
        return None


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's per-run SQLite event log, connecting through the process's kept engines."""

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = ENGINES.get(self.conn_string_for_shard(shard), timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
            if shard not in self._initialized_dbs:
                # A database written from the template is current; any other is checked (and made) as Dagster does.
                if shard == INDEX_SHARD_NAME or not create_run_database(self.path_for_shard(shard)):
                    self._initdb(engine)
                self._initialized_dbs.add(shard)
            with _transaction(engine) as conn:
                yield conn

    def _initdb(self, engine: Engine, for_index_shard: bool = False) -> None:
        # Dagster reads its whole schema history twice to check a database (a third of a run's start); one
        # that holds the head revision of an empty run database made by Dagster is current.
        template = None if for_index_shard else usable_template(self._base_dir)
        if template is None or _revisions(engine) != [template.revision]:
            super()._initdb(engine, for_index_shard)

    def store_event(self, event: EventLogEntry) -> None:
        super().store_event(event)
        # Dagster's watchers of a run's events (the Dagster UI's live run page) wait for its database file to
        # change; with the connection kept open the write lands in the write-ahead log only, so tell them.
        with suppress(FileNotFoundError):  # deleted meanwhile (a wipe): nobody is watching it
            os.utime(self.path_for_shard(event.run_id))

    def _all_databases(self) -> str:
        """The start of the connection strings of this event log's databases (the index and every run's)."""
        return SQLITE_PREFIX + os.path.join(self._base_dir, "")

    def wipe(self) -> None:
        ENGINES.dispose(self._all_databases())  # the files are deleted: no connection may outlive them
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        ENGINES.dispose(self._all_databases())


class _KeptEngine:
    """`connect` and `dispose` of Dagster's one-file SQLite storages (runs, schedules) on the kept engine."""

    _conn_string: str

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with _transaction(ENGINES.get(self._conn_string)) as conn:
            yield conn

    def dispose(self) -> None:
        super().dispose()  # type: ignore[misc]  # the storage class this is mixed into
        ENGINES.dispose(self._conn_string)


def _stamped(conn_string: str, tables: tuple[str, ...] = ()) -> bool:
    """Whether a one-file storage's database holds one schema revision and `tables`.

    Then Dagster's opening of it (`from_local`) changes nothing: it creates tables and stamps a revision only
    where there is none. But it would still load Alembic and read the whole migration history to compare the
    revision with its own, which only a migration acts on (runs/instance.py migrates, under its lock).
    """
    if not os.path.isfile(conn_string.removeprefix(SQLITE_PREFIX)):
        return False
    engine = ENGINES.get(conn_string)
    try:
        revisions = _revisions(engine)
        with _transaction(engine) as conn:
            names = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars())
    except SQLAlchemyError:
        return False
    return revisions is not None and len(revisions) == 1 and bool(revisions[0]) and set(tables) <= names


class PooledSqliteRunStorage(_KeptEngine, SqliteRunStorage):
    """Dagster's SQLite run storage, connecting through the process's kept engine."""

    @classmethod
    def from_local(cls, base_dir: str, inst_data: ConfigurableClassData | None = None) -> Self:
        conn_string = create_db_conn_string(base_dir, "runs")
        if _stamped(conn_string, ("runs", "instance_info")):  # what Dagster's would check, and find done
            return cls(conn_string, inst_data)
        return super().from_local(base_dir, inst_data)


class PooledSqliteScheduleStorage(_KeptEngine, SqliteScheduleStorage):
    """Dagster's SQLite schedule storage, connecting through the process's kept engine."""

    @classmethod
    def from_local(cls, base_dir: str, inst_data: ConfigurableClassData | None = None) -> Self:
        conn_string = create_db_conn_string(base_dir, "schedules")
        if _stamped(conn_string):
            return cls(conn_string, inst_data)
        return super().from_local(base_dir, inst_data)  # type: ignore[return-value]


class PooledSqliteStorage(DagsterSqliteStorage):
    """Dagster's default SQLite storage (runs, event logs, schedules under DAGSTER_HOME) with kept connections."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        # As Dagster's class does, with the pooled storages on the same folders.
        self.base_dir = base_dir
        self._run_storage = PooledSqliteRunStorage.from_local(_runs_directory(base_dir))
        self._event_log_storage = PooledSqliteEventLogStorage(_event_logs_directory(base_dir))
        self._schedule_storage = PooledSqliteScheduleStorage.from_local(_schedule_directory(base_dir))
        self._inst_data = inst_data
        super(DagsterSqliteStorage, self).__init__()  # what Dagster's __init__ ends with

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Any) -> DagsterSqliteStorage:  # type: ignore[override]
        return cls.from_local(inst_data=inst_data, **config_value)


def pooled_ref(ref: InstanceRef) -> InstanceRef:
    """`ref` with Dagster's default SQLite storage replaced by the pooled one; any other storage unchanged."""
    data = ref.storage_data
    if data is None or (data.module_name, data.class_name) != (
        "dagster._core.storage.sqlite_storage",
        "DagsterSqliteStorage",
    ):
        return ref
    pooled = ConfigurableClassData(__name__, PooledSqliteStorage.__name__, data.config_yaml)
    return ref._replace(storage_data=pooled)

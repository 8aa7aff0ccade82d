"""Database tables of the web app (users, sessions, login attempts, samples, runs, preferences) and the engine."""

from __future__ import annotations

import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, UniqueConstraint, event, inspect, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Field, Session, SQLModel, create_engine

from just_dna_pipelines.io.file_lock import file_lock
from webui.config import get_web_settings


class User(SQLModel, table=True):
    """An account; `name` is also the user part of the `user/sample` partition key."""

    # A deleted account's id is never given to a new one (SQLite reuses the highest rowid without this; PostgreSQL
    # sequences never do): anything left naming it can then belong to nobody else. Databases made before keep theirs.
    __table_args__ = {"sqlite_autoincrement": True}
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    password_hash: str
    created_at: float = Field(default_factory=time.time)


class AuthSession(SQLModel, table=True):
    """A login session; only the SHA-256 of its random token is stored."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(index=True, unique=True)
    user_id: int = Field(index=True, foreign_key="user.id")
    created_at: float = Field(default_factory=time.time)
    expires_at: float


class LoginFailure(SQLModel, table=True):
    """A login attempt counted against a throttling key (a name and address pair, or an address)."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True)
    at: float = Field(default_factory=time.time, index=True)


class LoginTicket(SQLModel, table=True):
    """A one-time, short-lived ticket the browser trades for the HttpOnly session cookie (hash stored only)."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_hash: str = Field(index=True, unique=True)
    user_id: int = Field(index=True, foreign_key="user.id")
    next_url: str
    expires_at: float


class UploadReservation(SQLModel, table=True):
    """A sample name held by an upload in progress, so two uploads of one name cannot both be kept."""

    __table_args__ = (UniqueConstraint("user_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(index=True, foreign_key="user.id")
    name: str
    created_at: float = Field(default_factory=time.time)


class SampleRecord(SQLModel, table=True):
    """An uploaded sample owned by a user."""

    __table_args__ = (UniqueConstraint("user_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(index=True, foreign_key="user.id")
    name: str
    filename: str
    size_bytes: int
    record_count: int
    genome_build: str
    vcf_samples: str
    uploaded_at: float = Field(default_factory=time.time)
    # The VCF column the person picked for a multi-sample file ("" = the default the pipeline names).
    sample_column: str = Field(default="", sa_column_kwargs={"server_default": ""})
    input_kind: str = Field(default="vcf", sa_column_kwargs={"server_default": "vcf"})  # or "array"
    vendor: str = Field(default="", sa_column_kwargs={"server_default": ""})  # DNA-test company of an array
    call_rate: float = Field(default=-1.0, sa_column_kwargs={"server_default": "-1"})  # arrays; -1: not one
    # What inspection said, " | "-joined.
    notes: str = Field(default="", sa_column_kwargs={"server_default": ""})
    # VCFs: [{"name": ..., "calls": genotype calls in the first records or null}] in file order.
    samples_json: str = Field(default="", sa_column_kwargs={"server_default": ""})


class RunRecord(SQLModel, table=True):
    """A pipeline run launched from the web app, for ownership checks and history."""

    run_id: str = Field(primary_key=True)
    user_id: int = Field(index=True, foreign_key="user.id")
    sample: str = Field(index=True)
    modules: str
    launched_at: float = Field(default_factory=time.time)


class ModuleChoice(SQLModel, table=True):
    """The modules a user ticked last time (comma-separated names)."""

    user_id: int = Field(primary_key=True, foreign_key="user.id")
    modules: str


# Any constant: the key of the PostgreSQL advisory lock under which one process creates or migrates the tables.
SCHEMA_LOCK = 7_415_212_031


def is_postgres(engine_or_connection: Engine | Connection) -> bool:
    """Whether this is a PostgreSQL database (else SQLite)."""
    return engine_or_connection.dialect.name == "postgresql"


_ENGINE_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def _engine_for(url: str) -> Engine:
    """One engine per database URL, with the tables created (and missing columns added) on first use."""
    with (
        _ENGINE_LOCK
    ):  # the first requests arrive on several threads at once: one of them prepares the tables
        return _open_engine(url)


def schema_lock_path(sqlite_url: str) -> Path:
    """The lock a SQLite database's tables are created and migrated under, beside the database file."""
    return Path(sqlite_url.removeprefix("sqlite:///") + ".schema.lock")


def _open_engine(url: str) -> Engine:
    connect_args: dict[str, object] = {}
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, connect_args=connect_args, pool_pre_ping=not url.startswith("sqlite"))
    if url.startswith("sqlite:///"):
        event.listen(engine, "connect", _zero_deleted_content)
    try:
        if url.startswith("sqlite:///"):
            # Several backend workers start at once: one creates or migrates the tables, the others wait and find
            # them (SQLite takes no lock a table check and its CREATE or ALTER share; they failed "already
            # exists" or "duplicate column name").
            with file_lock(schema_lock_path(url)):
                _prepare_tables(engine)
        else:
            _prepare_tables(engine)
        return engine
    except OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc).splitlines()[0]
        raise DatabaseUnavailable(
            f"cannot open the accounts database {engine.url.render_as_string()}: {reason}"
        ) from None


def _zero_deleted_content(connection: Any, _record: Any) -> None:
    """SQLite overwrites what it deletes: a deleted account's rows (its name, password hash, sample names) would
    otherwise stay readable in the file's free pages. Debian's SQLite does so by default; others (macOS's) do not."""
    connection.execute("PRAGMA secure_delete = ON")


def _prepare_tables(engine: Engine) -> None:
    """Create missing tables and columns in one transaction (on PostgreSQL under an advisory lock)."""
    with engine.begin() as connection:
        if is_postgres(connection):
            # Several backend workers start at once: one creates the tables, the others wait and find them.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        SQLModel.metadata.create_all(connection)
        add_missing_columns(connection)


class DatabaseUnavailable(RuntimeError):
    """The accounts database (DATABASE_URL) cannot be reached or opened; the message is one line."""


def add_missing_columns(connection: Connection) -> list[str]:
    """Add columns that newer code declares to tables an older version created; return what was added.

    Only nullable or server-defaulted columns are ever added, so existing rows stay valid. Runs inside the
    caller's transaction (on PostgreSQL the whole migration then commits or rolls back as one).
    """
    inspector = inspect(connection)
    added = []
    for table in SQLModel.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            kind = column.type.compile(dialect=connection.dialect)
            default = column.server_default.arg if column.server_default is not None else None  # type: ignore[attr-defined]
            clause = f" DEFAULT '{default}' NOT NULL" if default is not None else ""
            connection.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}{clause}'))
            added.append(f"{table.name}.{column.name}")
    return added


def lock_for_key(db: Session, key: str) -> None:
    """Serialize writers of one key until this transaction ends (PostgreSQL; SQLite has one writer anyway).

    Row ids then follow commit order per key, which the login throttle's counting relies on.
    """
    if db.get_bind().dialect.name == "postgresql":
        db.connection().execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


def get_engine() -> Engine:
    """The engine of the configured database (`DATABASE_URL`)."""
    return _engine_for(get_web_settings().database_url)


def db_session() -> Session:
    """A new database session; use as a context manager."""
    return Session(get_engine(), expire_on_commit=False)

"""Rewriting PostgreSQL tables after a deletion, so the deleted rows' bytes leave the database's files.

A DELETE leaves the row in its table's page and its entries in the indexes' pages (dead tuples). A plain VACUUM,
also with INDEX_CLEANUP ON, only marks that space free: the bytes stay until a later row happens to overwrite them
(measured on PostgreSQL 15 by searching the relation files for a deleted marker), and autovacuum visits a table only
after 50 rows + 20 % of it changed. VACUUM FULL writes the live rows to new files, rebuilds the indexes and empties
the old files at once: the only statement that removed the bytes from both. It locks the table (reads and writes
wait) for as long as the rewrite takes, which grows with the table. ANALYZE, autovacuum's too, copies sampled
values (most common values, histogram bounds) into pg_statistic; each table is analyzed again from its remaining
rows, then pg_statistic is rewritten the same way (PostgreSQL skips that with a warning in its log unless the
database's owner or a superuser asks).

Out of reach here: the write-ahead log segments hold the rows until PostgreSQL recycles them, a table left empty
keeps its last statistics (ANALYZE of no rows writes none), and the file system may keep the old files' blocks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

# How long a rewrite waits for a table another session holds; past it the table is left for the next deletion.
LOCK_TIMEOUT = "30s"
STATISTICS_TABLE = "pg_statistic"

log = logging.getLogger(__name__)


def rewrite_tables(url: str, tables: Iterable[str]) -> None:
    """VACUUM (FULL, ANALYZE) those of `tables` the PostgreSQL database at `url` has, then its statistics; a table
    that cannot be rewritten (busy past LOCK_TIMEOUT, no permission, no connection) is logged and left as it is."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    quote = engine.dialect.identifier_preparer.quote
    try:
        with engine.connect() as connection:  # VACUUM cannot run inside a transaction: autocommit
            connection.execute(sa.text(f"SET lock_timeout = '{LOCK_TIMEOUT}'"))
            present = [
                name
                for name in dict.fromkeys(tables)
                if connection.execute(sa.text("SELECT to_regclass(:name)"), {"name": quote(name)}).scalar()
            ]
            for name in present:
                _vacuum(connection, f"VACUUM (FULL, ANALYZE) {quote(name)}")
            if present:
                _vacuum(connection, f"VACUUM FULL {STATISTICS_TABLE}")
    except SQLAlchemyError as error:
        log.warning("could not rewrite the tables of %s: %s", engine.url, _first_line(error))
    finally:
        engine.dispose()


def _vacuum(connection: sa.Connection, statement: str) -> None:
    try:
        connection.execute(sa.text(statement))
    except SQLAlchemyError as error:
        log.warning(
            "%s failed, its deleted rows stay until the next rewrite: %s", statement, _first_line(error)
        )


def _first_line(error: SQLAlchemyError) -> str:
    message = str(getattr(error, "orig", None) or error).strip()
    return message.splitlines()[0] if message else type(error).__name__

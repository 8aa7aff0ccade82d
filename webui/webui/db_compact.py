"""After a deletion, no deleted row's bytes stay in the accounts database's files (names, password hashes, samples).

SQLite overwrites what it deletes (`secure_delete`, set on every connection in `db.py`) and removes its rollback
journal at each commit. PostgreSQL keeps deleted rows in the tables' and indexes' pages until they are rewritten,
which autovacuum does not do: the tables a deletion changed are rewritten then (see
`just_dna_pipelines.io.postgres_rewrite`, also for what stays out of reach: the write-ahead log until recycled).
"""

from __future__ import annotations

from sqlmodel import SQLModel

from just_dna_pipelines.io.postgres_rewrite import rewrite_tables
from webui.config import get_web_settings
from webui.db import get_engine, is_postgres


def compact_tables(*tables: type[SQLModel]) -> None:
    """Rewrite these tables of the accounts database on PostgreSQL (nothing to do on SQLite); a table that cannot
    be rewritten is logged and left for the next deletion, the deletion itself stands."""
    if is_postgres(get_engine()):
        rewrite_tables(get_web_settings().database_url, [str(table.__tablename__) for table in tables])

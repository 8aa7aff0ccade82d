"""What a PostgreSQL database's files hold: the tables and indexes whose bytes on disk contain a given text.

Deleted rows stay in a table's and its indexes' pages (dead tuples, then free space) until the pages are
rewritten, where anyone who copies the data directory can read them; the tests of deletion search there.
"""

from __future__ import annotations

import sqlalchemy as sa

from webui.engines import PostgresServer


def relations_holding(server: PostgresServer, database_url: str, text: bytes) -> list[str]:
    """The relations (tables, indexes, TOAST, catalogs) of the database at `database_url` whose files on disk hold
    `text` anywhere; a file no relation owns any more is named by its path. Checkpoints first, so every changed page
    is on disk."""
    engine = sa.create_engine(database_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        connection.execute(sa.text("CHECKPOINT"))
        folder = connection.execute(
            sa.text("SELECT oid FROM pg_database WHERE datname = current_database()")
        ).scalar_one()
        names: dict[str, str] = dict(
            connection.execute(
                sa.text("SELECT pg_relation_filenode(oid)::text, relname FROM pg_class WHERE relkind <> 'v'")
            ).all()
        )
    engine.dispose()
    found = []
    for path in sorted((server.folder / "data" / "base" / str(folder)).iterdir()):
        if path.is_file() and text in path.read_bytes():
            filenode = path.name.split("_")[0].split(".")[0]  # "16384", "16384_fsm", "16384.1"
            found.append(names.get(filenode, str(path)))
    return sorted(set(found))

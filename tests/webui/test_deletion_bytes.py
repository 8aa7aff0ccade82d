"""A deleted account or sample leaves no bytes in the accounts database's files, on SQLite and on PostgreSQL.

PostgreSQL kept the deleted rows in its tables' and indexes' pages (autovacuum never reached such small tables,
and a plain VACUUM only marks the space free) and their sampled values in pg_statistic once analyzed: the name,
the password hash, the sample and file names stayed readable by anyone who reads the data directory.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from just_dna_pipelines.modules.demo import ensure_demo_sample
from tests.postgres_files import relations_holding
from webui.db import User, db_session
from webui.services import accounts, samples

BOTH = pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
NAME = "zqxperson"  # distinctive: no other byte sequence in a database file matches it by chance
PASSWORD = "correct horse battery"
SAMPLE = "zqxgenome"


def _places_holding(request: pytest.FixtureRequest, database_url: str, text: bytes) -> list[str]:
    """The relations (PostgreSQL) or files (SQLite: the database and its journals) whose bytes hold `text`."""
    if database_url.startswith("sqlite:///"):
        database = Path(database_url.removeprefix("sqlite:///"))
        files = database.parent.glob(database.name + "*")
        return sorted(path.name for path in files if path.is_file() and text in path.read_bytes())
    return relations_holding(request.getfixturevalue("postgres_server"), database_url, text)


def _analyze(database_url: str) -> None:
    """Sample the tables' values into the statistics, as autovacuum does once a lab's tables have grown."""
    if database_url.startswith("sqlite:///"):
        return
    engine = sa.create_engine(database_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        connection.execute(sa.text("ANALYZE"))
    engine.dispose()


def _user_with_a_sample(upload_file, tmp_path: Path) -> tuple[accounts.CurrentUser, bytes]:
    """The distinctive user with a session, a ticket, module choices, a failed login, a reservation and an uploaded
    sample; and their password hash."""
    user = accounts.sign_up(NAME, PASSWORD)
    accounts.open_session(user)
    accounts.issue_login_ticket(user, "http://127.0.0.1:3000/")
    accounts.remember_modules(user, ["longevitymap"])
    with pytest.raises(accounts.AuthError):
        accounts.log_in(NAME, "wrong guess wrong", "192.0.2.7")
    samples.reserve_name(user, "zqxpending")
    upload_file(user, ensure_demo_sample(tmp_path / "demo"), filename=f"{SAMPLE}.vcf")
    with db_session() as db:
        password_hash = db.exec(select(User.password_hash).where(User.name == NAME)).one()
    return user, password_hash.encode()


@BOTH
def test_a_deleted_account_leaves_no_bytes_in_the_database(
    request, web_env, bob, upload_file, tmp_path: Path
) -> None:
    user, password_hash = _user_with_a_sample(upload_file, tmp_path)
    upload_file(bob, ensure_demo_sample(tmp_path / "demo"), filename="bobs.vcf")  # no table is left empty
    _analyze(web_env.database_url)
    markers = (NAME.encode(), password_hash, SAMPLE.encode(), b"zqxpending")
    assert all(_places_holding(request, web_env.database_url, marker) for marker in markers)

    samples.delete_account(user)

    left = {marker: _places_holding(request, web_env.database_url, marker) for marker in markers}
    assert not any(left.values()), left
    assert accounts.log_in("bob", "another long secret") == bob
    assert [s.name for s in samples.list_samples(bob)] == ["bobs"]


@BOTH
def test_a_deleted_sample_leaves_no_bytes_in_the_database(
    request, web_env, bob, upload_file, tmp_path: Path
) -> None:
    user, _ = _user_with_a_sample(upload_file, tmp_path)
    upload_file(bob, ensure_demo_sample(tmp_path / "demo"), filename="bobs.vcf")
    _analyze(web_env.database_url)
    assert _places_holding(request, web_env.database_url, SAMPLE.encode())

    samples.delete_sample(user, SAMPLE)

    assert _places_holding(request, web_env.database_url, SAMPLE.encode()) == []
    assert accounts.log_in(NAME, PASSWORD) == user
    assert [s.name for s in samples.list_samples(bob)] == ["bobs"]


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_a_table_busy_past_the_timeout_is_left_with_a_warning_and_the_deletion_stands(
    request, web_env, upload_file, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    from just_dna_pipelines.io import postgres_rewrite

    user, password_hash = _user_with_a_sample(upload_file, tmp_path)
    monkeypatch.setattr(postgres_rewrite, "LOCK_TIMEOUT", "200ms")
    reader = sa.create_engine(web_env.database_url, poolclass=sa.pool.NullPool)
    with reader.connect() as connection:  # another session reading the samples in a long transaction
        connection.execute(sa.text("SELECT count(*) FROM samplerecord"))
        samples.delete_account(user)
    reader.dispose()

    assert "VACUUM (FULL, ANALYZE) samplerecord failed" in caplog.text
    assert _places_holding(request, web_env.database_url, SAMPLE.encode())  # left for the next deletion
    assert (
        _places_holding(request, web_env.database_url, password_hash) == []
    )  # the tables after it were rewritten
    with pytest.raises(accounts.AuthError):
        accounts.log_in(NAME, PASSWORD)

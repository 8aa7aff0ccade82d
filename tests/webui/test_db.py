"""The accounts database on SQLite and on a real PostgreSQL: URLs, first start by several workers at once,
the mini-migration, races on names, and one-line errors for settings that cannot work."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from just_dna_pipelines.io.file_lock import file_lock
from webui.config import WebSettings, get_web_settings, normalize_database_url, settings_problem
from webui.db import DatabaseUnavailable, SampleRecord, _engine_for, db_session, schema_lock_path
from webui.engines import free_port
from webui.services import accounts, samples
from webui.services.errors import AuthError, WebError

BOTH = pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u:p@db:5432/jdl", "postgresql+psycopg://u:p@db:5432/jdl"),
        ("postgres://u@db/jdl", "postgresql+psycopg://u@db/jdl"),
        ("postgresql+psycopg://u@db/jdl", "postgresql+psycopg://u@db/jdl"),
        ("sqlite:////data/web.db", "sqlite:////data/web.db"),
    ],
)
def test_postgres_urls_use_the_installed_driver(given, used, monkeypatch):
    assert normalize_database_url(given) == used
    monkeypatch.setenv("DATABASE_URL", given)
    assert WebSettings().database_url == used


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"JUST_DNA_WEBUI_WORKERS": "2"}, "JUST_DNA_WEBUI_WORKERS=2 needs REDIS_URL"),
        ({"JUST_DNA_WEBUI_WORKERS": "0"}, "JUST_DNA_WEBUI_WORKERS must be 1 or more"),
        ({"JUST_DNA_WEBUI_WORKERS": "two"}, "JUST_DNA_WEBUI_WORKERS: "),
        ({"REDIS_URL": "http://cache:6379"}, "REDIS_URL must start with redis://"),
    ],
)
def test_settings_that_cannot_work_are_named_in_one_line(env, says, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_web_settings.cache_clear()
    try:
        problem = settings_problem()
    finally:
        get_web_settings.cache_clear()
    assert problem is not None and says in problem and "\n" not in problem


def test_several_workers_with_redis_are_fine(monkeypatch):
    monkeypatch.setenv("JUST_DNA_WEBUI_WORKERS", "3")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    get_web_settings.cache_clear()
    try:
        assert settings_problem() is None and get_web_settings().workers == 3
    finally:
        get_web_settings.cache_clear()


@pytest.mark.parametrize(
    ("argv", "env", "says"),
    [
        (["--prod"], {"JUST_DNA_WEBUI_WORKERS": "2"}, "error: JUST_DNA_WEBUI_WORKERS=2 needs REDIS_URL"),
        (
            ["--workers", "2"],
            {"REDIS_URL": "redis://127.0.0.1:9/0"},
            "error: several backend workers need --prod",
        ),
    ],
)
def test_the_launcher_refuses_workers_that_cannot_work_in_one_line(argv, env, says, tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", f"from webui.launcher import start; start({[*argv, '--no-dagster']!r})"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith(says) and "\n" not in done.stderr.strip()


def test_an_unreachable_database_is_one_line(monkeypatch):
    url = f"postgresql+psycopg://nobody:secret@127.0.0.1:{free_port()}/jdl"
    with pytest.raises(DatabaseUnavailable) as failed:
        _engine_for(url)
    message = str(failed.value)
    assert message.startswith("cannot open the accounts database postgresql+psycopg://nobody:***@127.0.0.1")
    assert "secret" not in message and "\n" not in message


def test_workers_starting_at_once_on_an_empty_postgres_create_the_tables_once(postgres_server):
    url = postgres_server.create_database("racing_start")
    code = (
        "import sys; from webui.db import _engine_for; from webui.config import normalize_database_url;"
        "_engine_for(normalize_database_url(sys.argv[1])); print('ok')"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    results = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0, 0], [err.decode()[-500:] for _, err in results]
    engine = create_engine(normalize_database_url(url))
    try:
        assert {"user", "authsession", "loginfailure", "samplerecord"} <= set(
            inspect(engine).get_table_names()
        )
    finally:
        engine.dispose()


OLD_SAMPLERECORD = (
    "CREATE TABLE samplerecord (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, name VARCHAR NOT NULL, "
    "filename VARCHAR NOT NULL, size_bytes INTEGER NOT NULL, record_count INTEGER NOT NULL, "
    "genome_build VARCHAR NOT NULL, vcf_samples VARCHAR NOT NULL, uploaded_at FLOAT NOT NULL)"
)
# Opens the database as a backend worker's first request does.
OPEN = (
    "import sys; from webui.config import normalize_database_url; from webui.db import _engine_for;"
    "_engine_for(normalize_database_url(sys.argv[1]))"
)


def tables_of(database) -> dict[str, set[str]]:
    """Each table of a SQLite file and its columns (read with sqlite3, outside the app)."""
    with sqlite3.connect(database) as connection:
        names = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            name: {row[1] for row in connection.execute(f'PRAGMA table_info("{name}")')} for name in names
        }


def waiting_on_a_lock(pids: set[int]) -> bool:
    """Whether every one of the processes waits for a file lock (/proc/locks lists a waiter with "->")."""
    waiting = set()
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" in fields and len(fields) > 5 and fields[5].isdigit():
            waiting.add(int(fields[5]))
    return pids <= waiting


@pytest.mark.parametrize("older", [False, True], ids=["new", "older"])
def test_workers_starting_at_once_on_sqlite_create_or_migrate_the_tables_once(tmp_path, older):
    """Several workers are allowed on SQLite: on a new database they created the tables, on an older one they
    added its missing columns, each on its own at once (some starts failed: "already exists", "duplicate column
    name"). They take turns under one lock: while it is held, none of them touches the tables."""
    database = tmp_path / "web.db"
    if older:
        with sqlite3.connect(database) as connection:
            connection.execute(OLD_SAMPLERECORD)
    before = tables_of(database)
    url = f"sqlite:///{database}"
    with file_lock(schema_lock_path(url)):
        procs = [
            subprocess.Popen([sys.executable, "-c", OPEN, url], stderr=subprocess.PIPE, text=True)
            for _ in range(4)
        ]
        deadline = time.monotonic() + 120
        while not waiting_on_a_lock(
            {proc.pid for proc in procs}
        ):  # each came to the tables and waits its turn
            assert time.monotonic() < deadline, "the workers went on without waiting for the lock"
            assert all(proc.poll() is None for proc in procs), "a worker ended without waiting for the lock"
            time.sleep(0.05)
        assert tables_of(database) == before
    errors = [proc.communicate(timeout=120)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 4, [e.strip().splitlines()[-1:] for e in errors]
    assert {"input_kind", "notes", "sample_column"} <= tables_of(database)["samplerecord"]


@BOTH
def test_older_tables_get_the_new_columns_with_their_defaults(web_env):
    """A samplerecord table as an older version made it (no input_kind, notes, ...) keeps its rows."""
    url = normalize_database_url(web_env.database_url)
    old = create_engine(url)
    with old.begin() as connection:
        connection.execute(text('CREATE TABLE "user" (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL UNIQUE, '
                                "password_hash VARCHAR NOT NULL, created_at FLOAT NOT NULL)"))  # fmt: skip
        connection.execute(text("CREATE TABLE samplerecord (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, "
                                "name VARCHAR NOT NULL, filename VARCHAR NOT NULL, size_bytes INTEGER NOT NULL, "
                                "record_count INTEGER NOT NULL, genome_build VARCHAR NOT NULL, "
                                "vcf_samples VARCHAR NOT NULL, uploaded_at FLOAT NOT NULL)"))  # fmt: skip
        connection.execute(text("INSERT INTO \"user\" VALUES (1, 'ann', 'x', 0)"))
        connection.execute(
            text("INSERT INTO samplerecord VALUES (1, 1, 's1', 's1.vcf', 10, 3, 'GRCh38', 'NA1', 0)")
        )
    old.dispose()
    with db_session() as db:
        row = db.get(SampleRecord, 1)
    assert row is not None
    assert (row.name, row.input_kind, row.call_rate, row.notes, row.sample_column) == (
        "s1",
        "vcf",
        -1.0,
        "",
        "",
    )


@BOTH
def test_parallel_sign_ups_of_one_name_make_one_account(web_env):
    outcomes: list[str] = []

    def sign_up() -> None:
        try:
            accounts.sign_up("zoe", "correct horse battery")
            outcomes.append("created")
        except AuthError as exc:
            outcomes.append(str(exc))
        except Exception as exc:  # anything else fails the test below
            outcomes.append(repr(exc))

    threads = [threading.Thread(target=sign_up) for _ in range(6)]  # the first use of the database, too
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 6 and outcomes.count("created") == 1
    assert all(o == "the user name zoe is taken" for o in outcomes if o != "created")


@BOTH
def test_parallel_uploads_of_one_name_hold_it_once(alice):
    outcomes: list[str] = []

    def reserve() -> None:
        try:
            samples.reserve_name(alice, "mine")
            outcomes.append("held")
        except WebError as exc:
            outcomes.append(str(exc))
        except Exception as exc:  # anything else fails the test below
            outcomes.append(repr(exc))

    threads = [threading.Thread(target=reserve) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 6 and outcomes.count("held") == 1
    assert all("being uploaded already" in o for o in outcomes if o != "held")
    samples.release_name(alice, "mine")
    samples.reserve_name(alice, "mine")  # free again once released


@BOTH
def test_deleting_an_account_removes_its_rows_in_a_valid_order(alice, bob):
    """PostgreSQL enforces the foreign keys SQLite ignores: the account goes with its sessions and choices."""
    token = accounts.open_session(alice)
    accounts.issue_login_ticket(alice, "http://127.0.0.1:3000/")
    accounts.remember_modules(alice, ["longevitymap"])
    samples.reserve_name(alice, "pending")
    samples.delete_account(alice)
    assert accounts.user_for_token(token) is None
    with pytest.raises(AuthError):
        accounts.log_in("alice", "correct horse battery")
    assert accounts.log_in("bob", "another long secret") == bob

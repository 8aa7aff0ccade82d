"""Dagster's SQLite storages with kept connections: open between writes, fresh to other processes' writes,
never reused across a fork or for a replaced file, and bounded in number."""

from __future__ import annotations

import os
import queue
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster._core.storage.event_log.base import EventLogCursor
from dagster._core.storage.event_log.sqlite import sqlite_event_log
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster.version import __version__ as dagster_version

from just_dna_pipelines.runs import instance as instance_module
from just_dna_pipelines.runs.instance import instance_for
from just_dna_pipelines.runs.sqlite_pool import (
    ENGINES,
    MAX_DATABASES,
    SQLITE_PREFIX,
    TEMPLATE_FILE,
    PooledSqliteEventLogStorage,
    PooledSqliteRunStorage,
    PooledSqliteScheduleStorage,
    create_run_database,
    run_database_template,
)

# Dagster's own classes, as the Dagster UI and daemon open the home.
READ_WITH_DAGSTER = """
import sys, dagster as dg
instance = dg.DagsterInstance.from_config(sys.argv[1])
print("\\n".join(entry.message for entry in instance.all_logs(sys.argv[2])))
"""
WRITE_WITH_DAGSTER = """
import sys, dagster as dg
instance = dg.DagsterInstance.from_config(sys.argv[1])
instance.report_engine_event("from another process", instance.get_run_by_id(sys.argv[2]))
"""


def _forget(home: Path) -> None:
    """Let this process open `home` again as a new process would."""
    instance_module._prepared.discard(home.resolve())
    instance_module._instances.pop(home.resolve(), None)


def _messages(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [entry.message for entry in instance.all_logs(run_id)]


def _run_files(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    shard = Path(instance.event_log_storage.path_for_shard(run_id))  # type: ignore[attr-defined]
    return sorted(path.name.removeprefix(run_id) for path in shard.parent.glob(f"{run_id}*"))


def test_a_sqlite_home_is_opened_with_connections_kept_between_writes(tmp_path: Path) -> None:
    instance = instance_for(tmp_path / "home")
    assert isinstance(instance.run_storage, PooledSqliteRunStorage)
    assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
    assert isinstance(instance.schedule_storage, PooledSqliteScheduleStorage)
    run = instance.add_run(dg.DagsterRun(job_name="job"))
    instance.report_engine_event("first", run)
    instance.report_engine_event("second", run)
    # The write-ahead log outlives the write: a connection is still open (Dagster's own classes close the
    # last one after every event, which checkpoints the log into the database and deletes it).
    assert _run_files(instance, run.run_id) == [".db", ".db-shm", ".db-wal"]
    assert _messages(instance, run.run_id) == ["first", "second"]
    assert [r.run_id for r in instance.get_runs()] == [run.run_id]


def test_writes_of_another_process_are_read_at_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    instance = instance_for(home)
    run = instance.add_run(dg.DagsterRun(job_name="job"))
    instance.report_engine_event("ours", run)
    assert _messages(instance, run.run_id) == ["ours"]  # the run's database is open here now
    subprocess.run([sys.executable, "-c", WRITE_WITH_DAGSTER, str(home.resolve()), run.run_id], check=True)
    assert _messages(instance, run.run_id) == ["ours", "from another process"]
    instance.report_engine_event("ours again", run)
    assert _messages(instance, run.run_id) == ["ours", "from another process", "ours again"]


def test_a_home_replaced_at_the_same_path_is_read_afresh(tmp_path: Path) -> None:
    home = tmp_path / "home"
    old = instance_for(home)
    old_run = old.add_run(dg.DagsterRun(job_name="job"))
    assert [r.run_id for r in old.get_runs()] == [old_run.run_id]
    shutil.rmtree(home)  # e.g. moved aside after damage, or a test's fresh home at the same path
    _forget(home)
    new = instance_for(home)
    assert new.get_runs() == []  # a kept connection to the deleted runs.db would still list the old run
    new_run = new.add_run(dg.DagsterRun(job_name="job"))
    with sqlite3.connect(home / "history" / "runs.db") as db:
        assert db.execute("SELECT run_id FROM runs").fetchall() == [(new_run.run_id,)]


def test_a_forked_childs_events_survive_its_parent_closing_its_connections(tmp_path: Path) -> None:
    """The worker stores RUN_STARTING, forks the run, and later closes connections (an LRU eviction, its exit).

    Had the child opened the run's database while its parent held it open, SQLite in the child would have
    believed it held locks the kernel never gave it, and the parent's close would have checkpointed and deleted
    the write-ahead log the child was writing to: its later events lost.
    """
    home = tmp_path / "home"
    instance = instance_for(home)
    run = instance.add_run(dg.DagsterRun(job_name="job"))
    instance.report_engine_event("claimed by the worker", run)
    to_parent, from_child = os.pipe()
    to_child, from_parent = os.pipe()
    pid = os.fork()
    if pid == 0:  # the run child
        code = 1
        try:
            assert ENGINES.databases() == []
            instance.report_engine_event("child: step 1", run)
            os.write(from_child, b"1")
            os.read(to_child, 1)
            instance.report_engine_event("child: step 2", run)
            code = 0
        finally:
            os._exit(code)
    os.read(to_parent, 1)
    assert _messages(instance, run.run_id) == ["claimed by the worker", "child: step 1"]  # reopened here
    ENGINES.dispose(SQLITE_PREFIX)  # the parent closes every connection
    os.write(from_parent, b"1")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    read = subprocess.run(
        [sys.executable, "-c", READ_WITH_DAGSTER, str(home.resolve()), run.run_id],
        check=True,
        capture_output=True,
        text=True,
    )
    assert read.stdout.splitlines() == ["claimed by the worker", "child: step 1", "child: step 2"]


def test_wiping_or_disposing_the_event_log_closes_its_connections(tmp_path: Path) -> None:
    instance = instance_for(tmp_path / "home")
    prefix = f"{SQLITE_PREFIX}{(tmp_path / 'home' / 'history' / 'runs').resolve()}/"
    for _ in range(2):
        instance.report_engine_event("event", instance.add_run(dg.DagsterRun(job_name="job")))
    assert len([c for c in ENGINES.databases() if c.startswith(prefix)]) == 3  # the index and two runs
    instance.event_log_storage.wipe()  # deletes the runs' databases and empties the index (opened again for it)
    assert [c for c in ENGINES.databases() if c.startswith(prefix)] == [f"{prefix}index.db"]
    instance.report_engine_event("after the wipe", instance.add_run(dg.DagsterRun(job_name="job")))
    assert [c for c in ENGINES.databases() if c.startswith(prefix)]
    instance.event_log_storage.dispose()
    assert [c for c in ENGINES.databases() if c.startswith(prefix)] == []


def test_where_hard_links_fail_dagster_creates_the_run_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = instance_for(tmp_path / "home")

    def no_links(*_args: object) -> None:
        raise PermissionError("hard links not supported")  # as on exFAT or some network file systems

    monkeypatch.setattr(os, "link", no_links)
    run = instance.add_run(dg.DagsterRun(job_name="job"))
    instance.report_engine_event("stored", run)
    assert _messages(instance, run.run_id) == ["stored"]
    assert _run_files(instance, run.run_id) == [".db", ".db-shm", ".db-wal"]  # and no temporary file left


def test_a_process_keeps_at_most_max_databases_open(tmp_path: Path) -> None:
    instance = instance_for(tmp_path / "home")
    runs = [instance.add_run(dg.DagsterRun(job_name="job")) for _ in range(MAX_DATABASES + 6)]
    for number, run in enumerate(runs):
        instance.report_engine_event(f"event {number}", run)
    assert len(ENGINES.databases()) == MAX_DATABASES
    # The least recently used were closed (their logs checkpointed and removed); all still read.
    assert _run_files(instance, runs[0].run_id) == [".db"]
    assert _run_files(instance, runs[-1].run_id) == [".db", ".db-shm", ".db-wal"]
    assert [_messages(instance, run.run_id) for run in runs] == [[f"event {n}"] for n in range(len(runs))]


def test_dagster_watchers_of_a_run_see_each_event_at_once(tmp_path: Path) -> None:
    """The Dagster UI follows a live run by watching its database file with Dagster's own storage class."""
    home = tmp_path / "home"
    instance = instance_for(home)
    run = instance.add_run(dg.DagsterRun(job_name="job"))
    instance.report_engine_event("before watching", run)
    seen: queue.Queue[str] = queue.Queue()
    with dg.DagsterInstance.from_config(str(home.resolve())) as dagster_ui:
        storage = dagster_ui.event_log_storage
        assert type(storage) is SqliteEventLogStorage
        cursor = str(EventLogCursor.from_storage_id(1))  # after the first event (the run database's row 1)

        def on_event(entry: object, _cursor: str) -> None:
            seen.put(entry.message)  # type: ignore[attr-defined]

        storage.watch(run.run_id, cursor, on_event)
        try:
            for message in ("first", "second"):
                instance.report_engine_event(message, run)
                assert seen.get(timeout=10) == message
        finally:
            storage.end_watch(run.run_id, on_event)


def _schema(path: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()
        rows += [("pragma", "journal_mode", db.execute("PRAGMA journal_mode").fetchone()[0])]
        rows += [
            ("alembic", "version", str(db.execute("SELECT version_num FROM alembic_version").fetchall()))
        ]
    return rows


def test_a_run_database_is_written_from_dagsters_template_without_reading_the_schema_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    instance = instance_for(home)
    run_database_template()  # made once per process (the run worker makes it before forking)
    checks: list[str] = []
    real_check = sqlite_event_log.check_alembic_revision

    def counted_check(*args: Any) -> Any:
        checks.append("read")
        return real_check(*args)

    monkeypatch.setattr(sqlite_event_log, "check_alembic_revision", counted_check)
    ours = instance.add_run(dg.DagsterRun(job_name="job"))
    instance.report_engine_event("ours", ours)
    assert checks == []  # Dagster reads its whole migration history twice for each new run database
    with dg.DagsterInstance.from_config(str(home.resolve())) as dagster_ui:
        theirs = dagster_ui.add_run(dg.DagsterRun(job_name="job"))
        dagster_ui.report_engine_event("theirs", theirs)
        assert checks  # (Dagster's own class, for comparison)
        assert _messages(dagster_ui, ours.run_id) == ["ours"]
        folder = Path(dagster_ui.event_log_storage.path_for_shard(ours.run_id)).parent  # type: ignore[attr-defined]
    assert _schema(folder / f"{ours.run_id}.db") == _schema(folder / f"{theirs.run_id}.db")


def test_an_existing_run_database_is_never_replaced_by_the_template(tmp_path: Path) -> None:
    instance = instance_for(tmp_path / "home")
    run = instance.add_run(dg.DagsterRun(job_name="job"))
    instance.report_engine_event("kept", run)
    path = instance.event_log_storage.path_for_shard(run.run_id)  # type: ignore[attr-defined]
    create_run_database(path)
    assert _messages(instance, run.run_id) == ["kept"]
    assert sorted(p.name for p in Path(path).parent.glob("*.tmp")) == []


# In a new process: the template of a folder, and whether this process had to make it.
KEPT_TEMPLATE = """
import sys
from just_dna_pipelines.runs.sqlite_pool import kept_template, run_database_template
template = kept_template(sys.argv[1])
print(run_database_template.cache_info().currsize, template.revision, len(template.content))
"""


def _kept_template_in_new_process(folder: Path) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", KEPT_TEMPLATE, str(folder)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_the_template_is_kept_beside_the_run_databases_for_the_next_process(tmp_path: Path) -> None:
    instance = instance_for(tmp_path / "home")
    run = instance.add_run(dg.DagsterRun(job_name="job"))
    instance.report_engine_event("first run", run)
    folder = Path(instance.event_log_storage.path_for_shard(run.run_id)).parent  # type: ignore[attr-defined]
    kept = folder / TEMPLATE_FILE.format(version=dagster_version)
    assert kept.is_file() and kept.suffix != ".db"  # Dagster takes every *.db there for a run's database
    made, revision, size = _kept_template_in_new_process(folder)
    assert made == "0"  # read, not made again (Dagster's creation and Alembic: 0.1-0.3 s a command)
    with sqlite3.connect(folder / f"{run.run_id}.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(revision,)]
    assert int(size) == kept.stat().st_size

    kept.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)  # damaged (a disk fault, a hand edit)
    made, again, _ = _kept_template_in_new_process(folder)
    assert (made, again) == ("1", revision)  # made anew, and kept again
    assert _kept_template_in_new_process(folder)[0] == "0"

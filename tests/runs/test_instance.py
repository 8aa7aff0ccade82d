"""Preparing the Dagster instance: created once under a lock, repaired when that is safe, refused with what to do."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from alembic.util.exc import CommandError

from just_dna_pipelines.errors import PipelineError
from just_dna_pipelines.runs import instance as instance_module
from just_dna_pipelines.runs.dagster_config import dagster_yaml
from just_dna_pipelines.runs.instance import OLD_DAGSTER_YAMLS, PREPARED_FILE, prepare_instance
from just_dna_pipelines.runs.storage_check import known_revisions, storage_revisions
from just_dna_pipelines.settings import get_settings

# What each of the racing processes does: open the instance the way every process of ours does, then use
# the run, event and schedule storage (as the webserver and the daemon do when they start).
OPEN_AND_USE = """
from just_dna_pipelines.runs.instance import get_instance
instance = get_instance()
instance.get_runs()
instance.all_instigator_state()
instance.get_latest_materialization_event(__import__("dagster").AssetKey("x"))
"""


def _fresh_env(home: Path) -> dict[str, str]:
    return {**os.environ, "DAGSTER_HOME": str(home)}


def _damage(home: Path, db: str, extra_revision: str) -> None:
    """Leave a second alembic_version row, as two processes creating the storage at once do."""
    with sqlite3.connect(home / db) as connection:
        connection.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (extra_revision,))


def _prepared_home(tmp_path: Path) -> Path:
    home = tmp_path / "dagster"
    prepare_instance(home)
    instance_module._prepared.discard(home.resolve())  # as a new process would see it
    instance_module._instances.pop(home.resolve(), None)
    return home.resolve()


@pytest.mark.slow
def test_processes_opening_a_fresh_home_at_once_leave_one_revision_per_database(tmp_path: Path) -> None:
    head, _ = known_revisions()
    for attempt in range(3):
        home = tmp_path / f"home{attempt}"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", OPEN_AND_USE], env=_fresh_env(home), stderr=subprocess.PIPE, text=True
            )
            for _ in range(4)
        ]
        errors = [proc.communicate(timeout=120)[1] for proc in procs]
        assert [proc.returncode for proc in procs] == [0, 0, 0, 0], errors
        assert storage_revisions(home) == {
            "history/runs.db": [head],
            "history/runs/index.db": [head],
            "schedules/schedules.db": [head],
        }


def test_the_races_duplicate_revision_rows_are_repaired(tmp_path: Path) -> None:
    head, history = known_revisions()
    home = _prepared_home(tmp_path)
    older = history[1]  # what the losing process stamps: a revision before head, the tables being current
    _damage(home, "schedules/schedules.db", older)
    _damage(home, "history/runs.db", older)
    with pytest.raises(CommandError, match="more than one head"):
        dg.DagsterInstance.from_config(str(home))  # what the daemon hit on every start
    prepare_instance(home)
    assert storage_revisions(home)["schedules/schedules.db"] == [head]
    assert storage_revisions(home)["history/runs.db"] == [head]
    opened = dg.DagsterInstance.from_config(str(home))
    assert opened.get_runs() == [] and opened.all_instigator_state() == []


# Prepares the home in a new process and prints whether it read the installed Dagster's schema history.
PREPARE_AND_SAY_IF_HISTORY_READ = """
from just_dna_pipelines.runs.instance import prepare_instance
from just_dna_pipelines.runs.storage_check import known_revisions
prepare_instance()
print(known_revisions.cache_info().currsize)
"""


def _history_read_by_a_new_process(home: Path) -> bool:
    done = subprocess.run(
        [sys.executable, "-c", PREPARE_AND_SAY_IF_HISTORY_READ],
        env=_fresh_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip() == "1"


def test_a_home_prepared_by_this_dagster_is_opened_without_reading_the_schema_history(tmp_path: Path) -> None:
    home = tmp_path / "dagster"
    assert _history_read_by_a_new_process(home)  # a fresh home: checked and created
    recorded = json.loads((home / PREPARED_FILE).read_text())
    assert recorded == {"dagster": dg.__version__, "head": known_revisions()[0]}
    assert not _history_read_by_a_new_process(home)  # the second command only opens it

    recorded["dagster"] = "0.0.1"  # another Dagster version prepared it: checked again, then recorded anew
    (home / PREPARED_FILE).write_text(json.dumps(recorded))
    assert _history_read_by_a_new_process(home)
    assert not _history_read_by_a_new_process(home)

    older = known_revisions()[1][1]
    _damage(home, "schedules/schedules.db", older)  # damage after the record is still found and repaired
    assert _history_read_by_a_new_process(home)
    assert storage_revisions(home)["schedules/schedules.db"] == [known_revisions()[0]]


def test_an_unreadable_database_is_refused_with_what_to_do(tmp_path: Path) -> None:
    home = _prepared_home(tmp_path)
    (home / "history" / "runs.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(PipelineError) as raised:
        prepare_instance(home)
    message = str(raised.value)
    assert "\n" not in message
    assert "history/runs.db" in message and f"mv {home} {home}.broken" in message


def test_an_unknown_revision_is_refused_not_guessed(tmp_path: Path) -> None:
    home = _prepared_home(tmp_path)
    _damage(home, "schedules/schedules.db", "f00dfeedbeef")
    with pytest.raises(
        PipelineError, match=r"schedules/schedules\.db: schema revision f00dfeedbeef is unknown"
    ):
        prepare_instance(home)
    head, _ = known_revisions()
    assert sorted(storage_revisions(home)["schedules/schedules.db"]) == sorted([head, "f00dfeedbeef"])


def test_an_instance_behind_the_installed_dagster_is_migrated(tmp_path: Path) -> None:
    head, history = known_revisions()
    home = _prepared_home(tmp_path)
    for db in ("history/runs.db", "history/runs/index.db", "schedules/schedules.db"):
        with sqlite3.connect(home / db) as connection:
            connection.execute("UPDATE alembic_version SET version_num = ?", (history[1],))
    prepare_instance(home)
    assert set(map(tuple, storage_revisions(home).values())) == {(head,)}


def test_the_projects_old_dagster_yaml_is_upgraded_and_a_custom_one_kept(tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    for previous in OLD_DAGSTER_YAMLS:
        (old / "dagster.yaml").write_text(previous)
        prepare_instance(old)
        assert (old / "dagster.yaml").read_text() == dagster_yaml(get_settings())
    custom = tmp_path / "custom"
    custom.mkdir()
    (custom / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    prepare_instance(custom)
    assert (custom / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"


def test_a_broken_dagster_yaml_is_one_line_saying_what_to_fix(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry: {enabled: false\n")  # unclosed: not YAML
    with pytest.raises(PipelineError) as raised:
        prepare_instance(home)
    assert "\n" not in str(raised.value) and "dagster.yaml" in str(raised.value)


def test_a_command_uses_the_apps_files_and_refuses_another_storage(
    pipeline_env, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A command typed in a shell without the app's settings rewrote a lab's dagster.yaml (SQLite storage, no
    queue) for the app and daemon's next start."""
    from just_dna_pipelines.cli import main
    from just_dna_pipelines.runs.instance import ensure_dagster_home

    def app_settings(**env: str) -> tuple[str, str]:
        for name in ("DAGSTER_POSTGRES_URL", "JUST_DNA_RUN_MODE"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        for name in ("dagster.yaml", "workspace.yaml"):
            (pipeline_env.dagster_home / name).unlink(missing_ok=True)
        home = ensure_dagster_home()  # as the app writes them at its start
        return (home / "dagster.yaml").read_text(), (home / "workspace.yaml").read_text()

    def files() -> tuple[str, str]:
        home = pipeline_env.dagster_home
        return (home / "dagster.yaml").read_text(), (home / "workspace.yaml").read_text()

    def in_a_shell_without_them() -> None:
        monkeypatch.delenv("DAGSTER_POSTGRES_URL", raising=False)
        monkeypatch.delenv("JUST_DNA_RUN_MODE", raising=False)
        get_settings.cache_clear()

    # a lab's app on PostgreSQL (nothing listens there: the command is refused before connecting)
    lab = app_settings(
        DAGSTER_POSTGRES_URL="postgresql://dagster:pw@127.0.0.1:9/dagster", JUST_DNA_RUN_MODE="queue"
    )
    in_a_shell_without_them()
    assert main(["add-partition", "alice/one"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1 and "keeps Dagster's runs in PostgreSQL, but DAGSTER_POSTGRES_URL is not set" in err[0]
    )
    assert files() == lab

    # the same storage, another run mode: the command runs, and the app's files stay as they are
    queued = app_settings(JUST_DNA_RUN_MODE="queue")
    in_a_shell_without_them()
    assert main(["add-partition", "alice/one"]) == 0
    assert files() == queued and "QueuedRunCoordinator" in queued[0] and "run_monitoring" in queued[0]

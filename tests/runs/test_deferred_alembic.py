"""Dagster's SQL storage module imported without Alembic (issue 14's fixed cost), each case in a fresh
interpreter: Alembic loads only when Dagster first uses it, and whoever imports it afterwards gets the real one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from just_dna_pipelines.modules.demo import ensure_demo_sample


def python(code: str, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


IMPORT_THEN_USE = """
import sys
from just_dna_pipelines.runs import deferred_alembic
deferred_alembic.install()
from dagster._core.storage import sql
assert "alembic" not in sys.modules, "imported with the module"
assert not any(name.startswith("alembic") for name in sys.modules), sorted(sys.modules)
config = sql.get_alembic_config(sql.__file__)  # the first use loads the real Config
import alembic.config
assert isinstance(config, alembic.config.Config)
import alembic.command
assert alembic.command.upgrade.__module__ == "alembic.command"  # the real module, not a stand-in
print("ok")
"""


def test_the_sql_storage_imports_without_alembic_and_loads_it_at_first_use() -> None:
    assert python(IMPORT_THEN_USE) == "ok"


ALREADY_LOADED = """
import sys
import alembic.command
from just_dna_pipelines.runs import deferred_alembic
deferred_alembic.install()
from dagster._core.storage import sql
assert sql.upgrade is alembic.command.upgrade  # nothing deferred when Alembic was there first
print("ok")
"""


def test_nothing_is_deferred_when_alembic_is_loaded_already() -> None:
    assert python(ALREADY_LOADED) == "ok"


# `pipelines ARGS` as installed; prints whether Alembic was loaded by the end.
CLI = """
import atexit, sys
atexit.register(lambda: print(any(name.startswith("alembic") for name in sys.modules)))
sys.argv = ["pipelines", *sys.argv[1:]]
from just_dna_pipelines.cli import run_program
run_program()
"""


@pytest.mark.slow
def test_a_command_on_a_prepared_home_never_loads_alembic(pipeline_env, tmp_path: Path) -> None:
    sample = ensure_demo_sample(tmp_path)
    args = ("annotate-modules", "--vcf", str(sample), "--modules-source", "demo", "--no-report")
    first = python(CLI, *args, "--user", "a").splitlines()
    assert first[-1] == "True"  # the new home was created and stamped through the stand-ins
    assert json.loads((pipeline_env.dagster_home / ".prepared.json").read_text())["head"]
    second = python(CLI, *args, "--user", "b").splitlines()
    assert second[-1] == "False"
    assert (pipeline_env.output_dir / "users/b/demo_sample/modules/manifest.json").is_file()


@pytest.mark.slow
def test_three_commands_at_once_on_a_new_home_all_create_it_through_the_stand_ins(
    pipeline_env, tmp_path: Path
) -> None:
    sample = ensure_demo_sample(tmp_path)
    args = ("annotate-modules", "--vcf", str(sample), "--modules-source", "demo", "--no-report")
    started = [
        subprocess.Popen(
            [sys.executable, "-c", CLI, *args, "--user", user],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for user in ("a", "b", "c")
    ]
    for user, process in zip(("a", "b", "c"), started, strict=True):
        _out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        assert (pipeline_env.output_dir / f"users/{user}/demo_sample/modules/manifest.json").is_file()
    runs_folder = pipeline_env.dagster_home / "history" / "runs"
    assert len(list(runs_folder.glob(".run-database-template-*.sqlite3"))) == 1
    assert not list(runs_folder.glob("*.tmp"))  # no half-written template left by the race

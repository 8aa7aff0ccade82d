"""A sample's folder kept before a run: put back whole when the run does not succeed, dropped when it does."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from just_dna_pipelines.io.atomic import atomic_write_text, replace_dir
from just_dna_pipelines.runs.previous_outputs import (
    KEEPING_FOLDER,
    drop,
    keep_previous_outputs,
    put_back,
    put_back_left_over,
)
from just_dna_pipelines.staging import run_staging_dir


def state(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): p.read_text() if p.is_file() else "/" for p in sorted(folder.rglob("*"))
    }


def a_sample(output_dir: Path) -> Path:
    sample = output_dir / "users" / "u" / "s"
    atomic_write_text(sample / "source.json", "old genome")
    atomic_write_text(sample / "modules" / "manifest.json", "old results")
    return sample


def a_run_that_publishes_part(sample: Path, tmp_path: Path) -> None:
    """What a run does before it stops: a file and a folder replaced as the IO manager does, a file added."""
    atomic_write_text(sample / "source.json", "new genome")
    staged = tmp_path / "staged-modules"
    atomic_write_text(staged / "manifest.json", "new results")
    replace_dir(staged, sample / "modules")
    atomic_write_text(sample / "normalized" / "variants.parquet", "new table")


def test_put_back_restores_the_folder_as_it_was_and_leaves_no_staging(tmp_path: Path) -> None:
    output_dir, run_id = tmp_path / "out", str(uuid.uuid4())
    sample = a_sample(output_dir)
    before = state(sample)
    previous = keep_previous_outputs(sample, run_id, output_dir)
    assert previous.kept is not None
    assert os.stat(previous.kept / "source.json").st_ino == os.stat(sample / "source.json").st_ino  # a link
    a_run_that_publishes_part(sample, tmp_path)
    put_back(previous)
    assert state(sample) == before
    assert not run_staging_dir(run_id, output_dir).exists()


def test_drop_keeps_the_runs_outputs_and_leaves_no_staging(tmp_path: Path) -> None:
    output_dir, run_id = tmp_path / "out", str(uuid.uuid4())
    sample = a_sample(output_dir)
    previous = keep_previous_outputs(sample, run_id, output_dir)
    a_run_that_publishes_part(sample, tmp_path)
    after = state(sample)
    drop(previous)
    assert state(sample) == after and after["source.json"] == "new genome"
    assert not run_staging_dir(run_id, output_dir).exists()


def test_a_sample_without_outputs_has_none_again_nor_the_folders_made_for_it(tmp_path: Path) -> None:
    output_dir, run_id = tmp_path / "out", str(uuid.uuid4())
    (output_dir / "users").mkdir(parents=True)
    sample = output_dir / "users" / "u" / "s"
    previous = keep_previous_outputs(sample, run_id, output_dir)
    assert previous.kept is None
    a_sample(output_dir)
    a_run_that_publishes_part(sample, tmp_path)
    put_back(previous)
    assert not (output_dir / "users" / "u").exists()
    assert (output_dir / "users").is_dir()  # it was there before


def test_a_killed_runs_kept_outputs_are_put_back_by_whoever_ends_it(tmp_path: Path) -> None:
    """A run killed outright never puts back what it kept: whoever ends it does, once (from the run's id alone)."""
    output_dir, run_id = tmp_path / "out", str(uuid.uuid4())
    sample = a_sample(output_dir)
    before = state(sample)
    keep_previous_outputs(sample, run_id, output_dir)
    a_run_that_publishes_part(sample, tmp_path)  # ... and then the process is killed
    assert put_back_left_over("u/s", run_id, output_dir)
    assert state(sample) == before
    assert not run_staging_dir(run_id, output_dir).exists()
    atomic_write_text(sample / "source.json", "a later run's genome")
    assert not put_back_left_over("u/s", run_id, output_dir)  # nothing left: never put back twice
    assert (sample / "source.json").read_text() == "a later run's genome"


def test_a_killed_first_run_leaves_no_sample_folder(tmp_path: Path) -> None:
    output_dir, run_id = tmp_path / "out", str(uuid.uuid4())
    (output_dir / "users").mkdir(parents=True)
    sample = output_dir / "users" / "u" / "s"
    keep_previous_outputs(sample, run_id, output_dir)
    a_sample(output_dir)
    a_run_that_publishes_part(sample, tmp_path)
    assert put_back_left_over("u/s", run_id, output_dir)
    assert not (output_dir / "users" / "u").exists()
    assert not run_staging_dir(run_id, output_dir).exists()


def test_outputs_kept_only_in_part_are_never_put_back(tmp_path: Path) -> None:
    """A run killed while it was still linking the sample's files had changed nothing: a part is not put back."""
    output_dir, run_id = tmp_path / "out", str(uuid.uuid4())
    sample = a_sample(output_dir)
    before = state(sample)
    partial = run_staging_dir(run_id, output_dir) / KEEPING_FOLDER
    atomic_write_text(partial / "source.json", "old genome")  # modules/ not linked yet
    assert not put_back_left_over("u/s", run_id, output_dir)
    assert state(sample) == before


PUT_BACK_KILLED = """
import os, shutil, signal, sys
from pathlib import Path
from just_dna_pipelines.runs.previous_outputs import RETURNING_FOLDER, PreviousOutputs, put_back
sample, kept, moment = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
rename, rmtree = os.rename, shutil.rmtree

def rename_then_die(source, target, *args, **kwargs):  # the process killed right after the step `moment` names
    rename(source, target, *args, **kwargs)
    if moment == "taken out" and Path(target).name == RETURNING_FOLDER:
        os.kill(os.getpid(), signal.SIGKILL)

def die_before_removing(path, *args, **kwargs):
    if moment == "swapped" and Path(path).name == RETURNING_FOLDER:
        os.kill(os.getpid(), signal.SIGKILL)
    rmtree(path, *args, **kwargs)

os.rename, shutil.rmtree = rename_then_die, die_before_removing
put_back(PreviousOutputs(sample, kept, (), kept))
"""


def _put_back_killed(sample: Path, run_id: str, output_dir: Path, moment: str) -> None:
    """put_back of the run's kept folder in a process SIGKILLed at `moment` (after taking the kept folder out; after
    swapping it into place)."""
    import signal
    import subprocess
    import sys

    from just_dna_pipelines.runs.previous_outputs import KEPT_FOLDER

    kept = run_staging_dir(run_id, output_dir) / KEPT_FOLDER
    died = subprocess.run(
        [sys.executable, "-c", PUT_BACK_KILLED, str(sample), str(kept), moment], check=False
    )
    assert died.returncode == -signal.SIGKILL


@pytest.mark.parametrize("moment", ["taken out", "swapped"])
def test_a_put_back_killed_part_way_ends_with_the_previous_outputs_in_place(
    tmp_path: Path, moment: str
) -> None:
    """Killed between taking the kept folder out and swapping it in ("taken out"), the run's outputs stayed for
    good: whoever ended the run found no kept folder to put back. Killed after the swap ("swapped"), what is left
    out of place is the run's outputs: never swapped back in."""
    output_dir, run_id = tmp_path / "out", str(uuid.uuid4())
    sample = a_sample(output_dir)
    before = state(sample)
    keep_previous_outputs(sample, run_id, output_dir)
    a_run_that_publishes_part(sample, tmp_path)
    _put_back_killed(sample, run_id, output_dir, moment)
    swapped = moment == "swapped"
    assert (state(sample) == before) is swapped

    assert put_back_left_over("u/s", run_id, output_dir) is not swapped  # True: it did put them back
    assert state(sample) == before
    # a put back finished removes the run's record; after the swap, the staging is left to the run's end
    assert run_staging_dir(run_id, output_dir).exists() is swapped

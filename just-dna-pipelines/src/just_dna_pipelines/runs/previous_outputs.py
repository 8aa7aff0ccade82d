"""A sample's outputs as they were before a command's run: kept until the run succeeds, put back if it does not.

A run publishes each asset as soon as it is made (the IO manager moves it into the sample's folder), so a run
stopped part-way (Ctrl-C, a failed step) left the folder mixing its new outputs with the previous run's: a new
genome's source.json and normalized table beside the old genome's module results and report. So before its run
starts, the command keeps the sample's folder as it is, as hard links in the run's staging folder (every output
is written beside its place and renamed onto it, never rewritten in place, so a link keeps the previous bytes and
no data is copied). A run that succeeds drops them; one that does not puts the kept folder back in one swap, or
removes the folder when the sample had none: a run's outputs count only as a whole. The command and the web
app's local runs keep them around their in-process execution; runs of Dagster's run workers (the queue run mode,
the Dagster UI, automation) in the jobs' executor (defs/whole_runs.py).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from just_dna_pipelines.io.atomic import atomic_write_text, replace_dir
from just_dna_pipelines.staging import run_staging_dir

KEPT_FOLDER = "previous-outputs"  # complete: renamed into place once every link is made
KEEPING_FOLDER = "previous-outputs.partial"  # links being made
# taken out of KEPT_FOLDER to be put back (never put back twice)
RETURNING_FOLDER = "previous-outputs.returning"
# the kept folder's inode, written before it is taken out to be put back: a put back killed before its swap
# leaves RETURNING_FOLDER holding the kept outputs (finished by whoever ends the run), one killed after it
# leaves the run's outputs there (only removed); the inode tells which
RETURNING_INODE_FILE = "previous-outputs.returning.inode"
NO_OUTPUTS_MARK = "previous-outputs.none"  # an empty folder: the sample had no outputs before the run


@dataclass(frozen=True)
class PreviousOutputs:
    """The sample's folder as it was (`kept`: None when it had none), the folders above it that did not exist,
    and what records them in the run's staging folder (`kept`, or an empty mark)."""

    sample_dir: Path
    kept: Path | None
    made: tuple[Path, ...]
    record: Path


def keep_previous_outputs(sample_dir: Path, run_id: str, output_dir: Path | None = None) -> PreviousOutputs:
    """Keep the sample's folder as it is now, in the run's staging folder (same file system: hard links)."""
    staging = run_staging_dir(run_id, output_dir)
    made = tuple(p for p in (sample_dir, *sample_dir.parents) if not p.exists())
    if sample_dir in made:
        mark = staging / NO_OUTPUTS_MARK
        mark.mkdir(parents=True, exist_ok=True)
        return PreviousOutputs(sample_dir, None, made[1:], mark)
    keeping, kept = staging / KEEPING_FOLDER, staging / KEPT_FOLDER
    for folder in (keeping, kept):
        shutil.rmtree(folder, ignore_errors=True)
    staging.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copytree(sample_dir, keeping, symlinks=True, copy_function=_link_or_copy)
        # only a whole copy is ever put back (a run killed meanwhile changed nothing)
        os.rename(keeping, kept)
    except BaseException:
        shutil.rmtree(keeping, ignore_errors=True)
        raise
    return PreviousOutputs(sample_dir, kept, (), kept)


def _sample_dir(partition_key: str, output_dir: Path | None = None) -> Path:
    """The folder of the sample a run's partition key names, in `output_dir` (default: the configured one)."""
    from just_dna_pipelines.keys import parse_partition_key
    from just_dna_pipelines.settings import get_settings, sample_output_folder

    return sample_output_folder(output_dir or get_settings().output_dir, *parse_partition_key(partition_key))


def keep_outputs_of(partition_key: str, run_id: str) -> PreviousOutputs:
    """keep_previous_outputs of the sample a run's partition key names, in the configured output folder."""
    return keep_previous_outputs(_sample_dir(partition_key), run_id)


@dataclass
class RunOutcome:
    """Whether the run kept around succeeded; set by the caller once it knows."""

    succeeded: bool = False


@contextlib.contextmanager
def outputs_kept_whole(partition_key: str, run_id: str) -> Iterator[RunOutcome]:
    """Keep the sample's outputs around a run: dropped if the caller marks the run succeeded, else put back."""
    previous = keep_outputs_of(partition_key, run_id)
    outcome = RunOutcome()
    try:
        yield outcome
    finally:
        (drop if outcome.succeeded else put_back)(previous)


def put_back(previous: PreviousOutputs) -> None:
    """Make the sample's folder what it was when it was kept (the run's outputs go)."""
    if previous.kept is None:
        if previous.record.is_dir():  # not done already (by whoever ended the run)
            shutil.rmtree(previous.sample_dir, ignore_errors=True)
            # innermost first; only while empty (another sample may be there now)
            for folder in previous.made:
                with contextlib.suppress(OSError):
                    folder.rmdir()
    elif previous.kept.is_dir():  # in one swap: a reader sees the run's folder or the old one, whole
        returning = previous.kept.with_name(RETURNING_FOLDER)
        atomic_write_text(returning.with_name(RETURNING_INODE_FILE), str(previous.kept.stat().st_ino))
        os.rename(previous.kept, returning)
        replace_dir(returning, previous.sample_dir)
    _remove_record(previous.record)


def drop(previous: PreviousOutputs) -> None:
    """Forget the kept outputs: the run succeeded, its outputs are the sample's now."""
    _remove_record(previous.record)


def put_back_left_over(partition_key: str, run_id: str, output_dir: Path | None = None) -> bool:
    """Put back what a run kept and never put back itself (its process was killed); False if it left nothing.

    Call it only as the run is ended and before another run of the sample may start: the kept folder is the
    sample's folder as it was before this run, and would undo a later run's outputs.
    """
    sample_dir = _sample_dir(partition_key, output_dir)
    staging = run_staging_dir(run_id, output_dir)
    if (kept := staging / KEPT_FOLDER).is_dir():
        put_back(PreviousOutputs(sample_dir, kept, (), kept))
    elif _taken_out_not_swapped(returning := staging / RETURNING_FOLDER):
        replace_dir(returning, sample_dir)  # the swap its put back was killed before
        _remove_record(staging / KEPT_FOLDER)
    elif (mark := staging / NO_OUTPUTS_MARK).is_dir():
        put_back(PreviousOutputs(sample_dir, None, (sample_dir.parent,), mark))
    else:
        return False
    return True


def _taken_out_not_swapped(returning: Path) -> bool:
    """Whether a put back was killed after taking the kept folder out and before swapping it into place."""
    try:
        recorded = int(returning.with_name(RETURNING_INODE_FILE).read_text())
        return returning.is_dir() and returning.stat().st_ino == recorded
    except (OSError, ValueError):
        return False


def _remove_record(record: Path) -> None:
    """Remove the run's record of the kept outputs (and what a put back left), and the run's staging folder if
    nothing else is there."""
    for folder in (record, record.with_name(RETURNING_FOLDER)):
        shutil.rmtree(folder, ignore_errors=True)
    record.with_name(RETURNING_INODE_FILE).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        record.parent.rmdir()


def _link_or_copy(source: str, target: str) -> None:
    """A hard link to `source`, or a copy where the file system has none."""
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, target, follow_symlinks=False)

"""Runs whose process is gone: told apart from live ones by the process their tags name, and ended.

A run killed with its process (OOM killer, kill -9, a machine restart) never records its own end, so it
would show "running" forever and hold a slot. Whoever notices first (the run worker when its child
exits or on its periodic pass, or any reader of the run) ends it: failed with a clear reason, or
canceled if a cancel was under way. Ending is idempotent and serialized by the runs lock.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import dagster as dg

from just_dna_pipelines.defs.annotation.io_managers import remove_run_staging
from just_dna_pipelines.io.file_lock import file_lock
from just_dna_pipelines.runs import tags
from just_dna_pipelines.runs.dagster_config import QUEUE_LAUNCHER
from just_dna_pipelines.runs.events import DEAD_MESSAGE
from just_dna_pipelines.runs.queue import IN_PROGRESS, runs_lock
from just_dna_pipelines.staging import run_staging_dir

CANCELED_MESSAGE = "canceled"
ENDED_UNFINISHED = (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)


def end_run(
    instance: dg.DagsterInstance, run_id: str, output_dir: Path | None = None
) -> dg.DagsterRun | None:
    """End a run whose process is gone (canceled if it was being canceled, else failed) and drop its staging."""
    with file_lock(runs_lock(instance)):
        run = instance.get_run_by_id(run_id)
        if run is not None and _going_on(run):
            if run.status == dg.DagsterRunStatus.CANCELING:
                instance.report_run_canceled(run, message=CANCELED_MESSAGE)
            else:
                fail_run(instance, run, DEAD_MESSAGE)
            # Ended now, before any run of ours of the sample may start: what it published goes (unless a run
            # not of ours, e.g. from the Dagster UI, was made meanwhile: it may have published outputs of its own).
            _put_back_left_over(instance, run, output_dir)
    remove_run_staging(run_id, output_dir)
    return instance.get_run_by_id(run_id)


def fail_run(instance: dg.DagsterInstance, run: dg.DagsterRun, message: str) -> None:
    """Record `run` failed for `message`, the error the app shows for it (no step of it failed to say one)."""
    instance.add_run_tags(run.run_id, {tags.ERROR: message})
    instance.report_run_failed(run, message=message)


def clear_ended_run(instance: dg.DagsterInstance, run: dg.DagsterRun, output_dir: Path | None = None) -> None:
    """Drop the staging of a run that ended and whose process is gone (Dagster's queue ended it unfinished, or a
    command or web run recorded its end and was killed before it dropped or put back the sample's previous
    outputs); an unfinished run's are put back first, unless a later run of the sample was created meanwhile (it
    may have published outputs of its own)."""
    if not run_staging_dir(run.run_id, output_dir).is_dir():
        return
    if run.status in ENDED_UNFINISHED:
        with file_lock(runs_lock(instance)):  # runs are created under it: none can come between the two looks
            _put_back_left_over(instance, run, output_dir)
    remove_run_staging(run.run_id, output_dir)


def _put_back_left_over(instance: dg.DagsterInstance, run: dg.DagsterRun, output_dir: Path | None) -> None:
    """Put back the sample's outputs a run kept and did not put back itself (runs/previous_outputs.py), unless a
    later run of the sample exists: what it kept would undo that run's outputs. Called under the runs lock."""
    from just_dna_pipelines.runs.previous_outputs import put_back_left_over

    key = tags.sample_partition(run.tags)
    if key is None:
        return
    newest = instance.get_runs(filters=dg.RunsFilter(tags={tags.PARTITION: key}), limit=1)
    if newest and newest[0].run_id == run.run_id:
        put_back_left_over(key, run.run_id, output_dir)


def _going_on(run: dg.DagsterRun) -> bool:
    """Whether a run claims to be going on: in progress, or a command's created and not started yet (its process
    creates and starts it: killed in between, it would stay NOT_STARTED for good)."""
    if run.status == dg.DagsterRunStatus.NOT_STARTED:
        return run.tags.get(tags.LAUNCHER) == "cli"
    return run.status in IN_PROGRESS


def _ended_and_gone(run: dg.DagsterRun) -> bool:
    """Whether nothing of an ended run still works on its staging: Dagster's queue ended it unfinished (its run
    worker puts back before it records its end), or the process its tags name is gone."""
    if run.tags.get(tags.LAUNCHER) == QUEUE_LAUNCHER:
        return run.status in ENDED_UNFINISHED
    return tags.LAUNCHER in run.tags and tags.responsible_process_alive(run.tags) is False


def is_legacy(run: dg.DagsterRun) -> bool:
    """A web or CLI run of an earlier version of the app, which recorded no process to check."""
    return tags.MODULES in run.tags and tags.LAUNCHER not in run.tags


def check_run(
    instance: dg.DagsterInstance, run: dg.DagsterRun, output_dir: Path | None = None
) -> dg.DagsterRun:
    """The run as it stands: ended first if it claims to be in progress but its process is gone.

    A run of Dagster's queue is ended by Dagster (code server, run monitoring), or here when the process its
    tags name (recorded by the run's IO manager as it starts) is gone, e.g. killed with its code server;
    its staging goes here, as does the staging of one of ours that recorded its end and was killed before it
    dropped or put back what it kept.
    """
    if run.is_finished and run_staging_dir(run.run_id, output_dir).is_dir() and _ended_and_gone(run):
        clear_ended_run(instance, run, output_dir)
    if not _going_on(run) or tags.LAUNCHER not in run.tags:
        return run
    if tags.responsible_process_alive(run.tags) is False:
        return end_run(instance, run.run_id, output_dir) or run
    return run


def reconcile_runs(
    instance: dg.DagsterInstance, output_dir: Path | None = None, *, legacy: bool = False
) -> None:
    """End our in-progress runs whose process is gone and stop those a cancel (e.g. in the Dagster UI) asked to.

    With `legacy`, also end in-progress runs of earlier versions (call once when a worker starts serving:
    their processes did not survive the restart that brought this version).
    """
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS))
    for run in runs:
        if legacy and is_legacy(run):
            end_run(instance, run.run_id, output_dir)
        elif check_run(instance, run, output_dir).status == dg.DagsterRunStatus.CANCELING:
            stop_run_process(run)


def stop_run_process(run: dg.DagsterRun, sig: int = signal.SIGTERM) -> bool:
    """Signal the process running `run` (its whole process group when it leads one); False if none is left."""
    if run.tags.get(tags.PROCESS) != "run" or not tags.responsible_process_alive(run.tags):
        return False
    pid = int(run.tags[tags.PID])
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if run.tags.get(tags.LAUNCHER) != "cli" and os.getpgid(pid) == pid:
            os.killpg(pid, sig)  # the worker's run children lead their own group: take their helpers too
        else:
            os.kill(pid, sig)  # a CLI run shares its terminal's group: only its own process
    return True

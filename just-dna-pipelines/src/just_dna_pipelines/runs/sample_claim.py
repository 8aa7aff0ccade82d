"""One run of a sample at a time, whoever starts it: the CLI holds its sample for the length of its run, as does a
run of the jobs' executor (defs/whole_runs.py: Dagster's queue, the Dagster UI, the automation).

The web app's run worker and Dagster's queue refuse a second run of a sample (under the runs lock, by the runs in
the instance). A command runs in its own process and creates its run as it starts it, so two commands (or a
command beside a web run) could run one sample at once: the second's results, report and clean-up then mixed with
the first's (a report read one run's manifest with another's tables; a failed first run deleted a running one's
sample folder). A command holds an flock named by the sample while its run lasts, and starts only when no other
run of the sample is queued, accepted or in progress; the web launchers refuse a sample a command holds. Either
side decides under an order that leaves no gap: a command takes its flock before it looks for accepted runs, and a
web launch looks at the flock under the runs lock before it records its acceptance.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from just_dna_pipelines.errors import PipelineError
from just_dna_pipelines.runs import tags
from just_dna_pipelines.runs.liveness import check_run
from just_dna_pipelines.runs.pending import pending_of
from just_dna_pipelines.runs.queue import IN_PROGRESS, LAUNCHERS, QUEUED_LAUNCHERS, SAMPLE_BUSY, WAITING

CLAIMS_FOLDER = "sample-claims"
CLAIM_POLL_S = 0.02
# the longest a new run waits for a sample's ended run to let the sample go (its put back renames folders; a run
# that holds the sample for its whole length is refused after it)
ENDED_RUN_RELEASE_S = 2.0


def _claim_path(instance: dg.DagsterInstance, partition_key: str) -> Path:
    """The claim's lock file: named by a digest of the key (the key's '/' and odd characters stay out of it)."""
    digest = hashlib.sha256(partition_key.encode()).hexdigest()[:32]
    return Path(instance.root_directory) / CLAIMS_FOLDER / f"{digest}.lock"


def other_runs_of(instance: dg.DagsterInstance, partition_key: str, output_dir: Path | None = None) -> bool:
    """Whether another run of ours holds the sample: accepted by the web app's worker, waiting in our queue, or in
    progress with its process alive (a dead one is ended here; a run not started by us, e.g. from the Dagster UI,
    or one that never started, does not hold it: nothing of ours could end it if it died)."""
    accepted = [
        entry for entry in pending_of(Path(instance.root_directory), partition_key) if not entry["error"]
    ]
    if accepted:
        return True
    filters = dg.RunsFilter(statuses=WAITING + IN_PROGRESS, tags={tags.PARTITION: partition_key})
    for run in instance.get_runs(filters=filters):
        launcher = run.tags.get(tags.LAUNCHER)
        if run.status in WAITING and launcher in QUEUED_LAUNCHERS:
            return True
        ours_in_progress = run.status in IN_PROGRESS and launcher in LAUNCHERS
        if ours_in_progress and check_run(instance, run, output_dir).status in IN_PROGRESS:
            return True
    return False


def sample_claimed(instance: dg.DagsterInstance, partition_key: str) -> bool:
    """Whether a command holds the sample now (the web launchers ask, under the runs lock, before accepting)."""
    try:
        fd = os.open(_claim_path(instance, partition_key), os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return False  # a claim's file exists only while its run holds it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released again at once: it was taken only to ask
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def claim_released(instance: dg.DagsterInstance, partition_key: str, timeout: float) -> bool:
    """Whether no process holds the sample's claim, waiting up to `timeout` seconds for its holder to let it go (a
    run that has just recorded its end holds it while it drops or puts back what it kept)."""
    deadline = time.monotonic() + timeout
    while sample_claimed(instance, partition_key):
        if time.monotonic() >= deadline:
            return False
        time.sleep(CLAIM_POLL_S)
    return True


def wait_for_an_ended_run(
    instance: dg.DagsterInstance, partition_key: str, output_dir: Path | None = None
) -> None:
    """Before a new run of the sample is decided on: when no run of it is going, wait (ENDED_RUN_RELEASE_S at most)
    for a holder of its claim to let it go, as a run that has just recorded its end does once it has dropped or put
    back what it kept."""
    if not other_runs_of(instance, partition_key, output_dir):
        claim_released(instance, partition_key, ENDED_RUN_RELEASE_S)


@contextlib.contextmanager
def _held_claim(path: Path) -> Iterator[None]:
    """Hold the claim's flock (BlockingIOError at once if another holds it); its file is removed, still held,
    as the claim ends, so no file names a sample after its runs (a digest of user/sample is a trace of it).

    A claimer that opened the file before its holder removed it locks a file no longer at the path: it checks
    the path's file is the one it locked, and tries again if not.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(fd)


def remove_stale_claims(folder: Path) -> int:
    """Remove the claim files no process holds (their run was killed before it could remove its own: SIGKILL, or a
    signal the command does not catch); return how many. Each is taken as a claim is, and so removed still held:
    a claimer that opened it meanwhile sees it gone from the path and takes a new one (see _held_claim)."""
    removed = 0
    for path in folder.glob("*.lock") if folder.is_dir() else ():
        with contextlib.suppress(BlockingIOError), _held_claim(path):  # BlockingIOError: a live run holds it
            removed += 1
    return removed


@contextlib.contextmanager
def sample_held(instance: dg.DagsterInstance, partition_key: str) -> Iterator[None]:
    """Hold the sample's claim while a run goes on; PipelineError (SAMPLE_BUSY) if another process holds it (a
    command, or a run of the jobs' executor: defs/whole_runs.py)."""
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(_held_claim(_claim_path(instance, partition_key)))
        except BlockingIOError:
            raise PipelineError(SAMPLE_BUSY) from None
        yield


@contextlib.contextmanager
def claim_sample(
    instance: dg.DagsterInstance, partition_key: str, output_dir: Path | None = None
) -> Iterator[None]:
    """Hold the sample for this process's run; PipelineError (SAMPLE_BUSY) while another run of it is going (a run
    that has just ended is waited for while it lets the sample go)."""
    wait_for_an_ended_run(instance, partition_key, output_dir)
    with sample_held(instance, partition_key):
        if other_runs_of(instance, partition_key, output_dir):
            raise PipelineError(SAMPLE_BUSY)
        remove_stale_claims(Path(instance.root_directory) / CLAIMS_FOLDER)
        yield

"""One run of a sample at a time, whoever starts it: the CLI holds its sample for the length of its run.

The web app's run worker and Dagster's queue refuse a second run of a sample (under the runs lock, by the runs in
the instance). A command runs in its own process and creates its run as it starts it, so two commands (or a
command beside a web run) could run one sample at once: the second's results, report and clean-up then mixed with
the first's (a report read one run's manifest with another's tables; a failed first run deleted a running one's
sample folder). A command holds an flock named by the sample while its run lasts, and starts only when no other
run of the sample is queued, accepted or in progress.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from just_dna_pipelines.errors import PipelineError
from just_dna_pipelines.runs import tags
from just_dna_pipelines.runs.liveness import check_run
from just_dna_pipelines.runs.pending import pending_of
from just_dna_pipelines.runs.queue import IN_PROGRESS, SAMPLE_BUSY, WAITING

CLAIMS_FOLDER = "sample-claims"


def _claim_path(instance: dg.DagsterInstance, partition_key: str) -> Path:
    """The claim's lock file: named by a digest of the key (the key's '/' and odd characters stay out of it)."""
    digest = hashlib.sha256(partition_key.encode()).hexdigest()[:32]
    return Path(instance.root_directory) / CLAIMS_FOLDER / f"{digest}.lock"


def other_runs_of(instance: dg.DagsterInstance, partition_key: str, output_dir: Path | None = None) -> bool:
    """Whether a run of the sample is queued, accepted by the web app's worker or in progress (dead ones ended
    first, so a killed run does not hold its sample for good)."""
    filters = dg.RunsFilter(statuses=WAITING + IN_PROGRESS, tags={tags.PARTITION: partition_key})
    live = [check_run(instance, run, output_dir) for run in instance.get_runs(filters=filters)]
    accepted = [
        entry for entry in pending_of(Path(instance.root_directory), partition_key) if not entry["error"]
    ]
    return bool(accepted) or any(run.status in WAITING + IN_PROGRESS for run in live)


@contextlib.contextmanager
def claim_sample(
    instance: dg.DagsterInstance, partition_key: str, output_dir: Path | None = None
) -> Iterator[None]:
    """Hold the sample for this process's run; PipelineError (SAMPLE_BUSY) while another run of it is going."""
    path = _claim_path(instance, partition_key)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PipelineError(SAMPLE_BUSY) from None  # another command is running it
        if other_runs_of(instance, partition_key, output_dir):
            raise PipelineError(SAMPLE_BUSY)
        yield
    finally:
        os.close(fd)

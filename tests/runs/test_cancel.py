"""Canceling a run the worker has accepted: only once its creator is done with it."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import dagster as dg
import pytest

from just_dna_pipelines.modules.demo import ensure_demo_sample
from just_dna_pipelines.runs.cancel import cancel_run
from just_dna_pipelines.runs.config import RunRequest
from just_dna_pipelines.runs.instance import get_instance
from just_dna_pipelines.runs.pending import add_pending, read_pending, remove_pending
from just_dna_pipelines.runs.queue import create_queued_run

pytestmark = pytest.mark.slow


def test_a_run_is_canceled_only_once_its_creator_is_done_with_it(
    demo_env, tmp_path: Path, add_sample
) -> None:
    """Cancel went ahead as soon as the run existed, while its creator went on writing the run's planned events
    and its partition: an account deleted at the moment of a Run click kept events naming the sample in the
    instance's index and an event database written again without its tables (found by a security audit)."""
    vcf = ensure_demo_sample(tmp_path / "demo")
    add_sample("alice", vcf, "s")
    instance = get_instance()
    home = Path(instance.root_directory)
    request = RunRequest(
        partition_key="alice/s", vcf_path=str(vcf), modules=["longevitymap"], modules_source="demo"
    )
    run_id = str(uuid.uuid4())
    add_pending(home, run_id, request)  # accepted
    create_queued_run(
        instance, request, run_id
    )  # created; its creator is not done (its record is still there)
    ended = threading.Event()
    canceling = threading.Thread(target=lambda: (cancel_run(instance, run_id), ended.set()), daemon=True)
    canceling.start()
    assert not ended.wait(1.5), "canceled while the run's creator was still at work"
    remove_pending(home, run_id)  # the creator is done
    assert ended.wait(60)
    run = instance.get_run_by_id(run_id)
    assert run is not None and run.status == dg.DagsterRunStatus.CANCELED
    assert read_pending(home, run_id) is None

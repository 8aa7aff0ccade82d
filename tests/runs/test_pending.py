"""A run accepted but not yet in Dagster reads as queued (behind the queue) or, if it could not be created, failed."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from just_dna_pipelines import service
from just_dna_pipelines.errors import PipelineError
from just_dna_pipelines.runs.config import RunRequest
from just_dna_pipelines.runs.instance import get_instance
from just_dna_pipelines.runs.pending import add_pending, fail_pending, read_pending


def _accept(home: Path, partition_key: str) -> str:
    """What the worker records when it accepts a run, before it creates it."""
    run_id = str(uuid.uuid4())
    add_pending(home, run_id, RunRequest(partition_key=partition_key, vcf_path="/x.vcf", modules=["vo2max"]))
    return run_id


def test_an_accepted_run_reads_as_queued_in_order_and_in_its_samples_runs(demo_env) -> None:
    home = Path(get_instance().root_directory)
    first, second = _accept(home, "alice/demo"), _accept(home, "bob/demo")
    one, two = service.get_run(first), service.get_run(second)
    assert (one.status, one.queue_position, one.modules) == ("queued", 1, ["vo2max"])
    assert (two.status, two.queue_position) == ("queued", 2)
    assert [(r.run_id, r.queue_position) for r in service.sample_runs("bob", "demo")] == [(second, 2)]


def test_an_accepted_run_lists_the_modules_its_tags_will_list(demo_env) -> None:
    """Ensembl included: a run page opened before the run existed in Dagster once showed no Ensembl row
    (a flaky browser test in CI)."""
    home = Path(get_instance().root_directory)
    for modules, ensembl, listed in (
        (["longevitymap"], True, ["longevitymap", "ensembl"]),
        ([], True, ["ensembl"]),
        (None, False, ["all"]),
    ):
        run_id = str(uuid.uuid4())
        request = RunRequest(partition_key="alice/demo", vcf_path="/x.vcf", modules=modules, ensembl=ensembl)
        add_pending(home, run_id, request)
        assert service.get_run(run_id).modules == listed == request.module_names()


def test_an_accepted_run_that_could_not_be_created_reads_as_failed_and_goes_with_its_sample(demo_env) -> None:
    home = Path(get_instance().root_directory)
    run_id = _accept(home, "alice/demo")
    fail_pending(home, run_id, "the run could not be queued (OSError: disk full)")
    info = service.get_run(run_id)
    assert (info.status, info.error, info.finished) == (
        "failure",
        "the run could not be queued (OSError: disk full)",
        True,
    )
    with pytest.raises(PipelineError, match="already finished"):
        service.cancel_run(run_id)
    assert "1 run(s)" in service.delete_sample("alice", "demo")
    assert read_pending(home, run_id) is None
    with pytest.raises(KeyError):
        service.get_run(run_id)


def test_a_string_that_is_no_run_id_never_becomes_a_path(demo_env) -> None:
    assert read_pending(Path(get_instance().root_directory), "../../etc/passwd") is None
    for call in (service.get_run, service.cancel_run):
        with pytest.raises(KeyError):
            call("../../etc/passwd")


def test_a_run_accepted_by_a_worker_that_died_is_created_and_run_by_the_next(demo_env, wait_until) -> None:
    from just_dna_pipelines.modules.demo import ensure_demo_sample
    from just_dna_pipelines.runs.pending import FOLDER

    vcf = ensure_demo_sample(service.upload_path("alice", "x.vcf").parent)
    key = service.register_sample("alice", "demo_sample", vcf)
    home = Path(get_instance().root_directory)
    run_id = str(uuid.uuid4())
    request = RunRequest(partition_key=key, vcf_path=str(vcf), modules=["vo2max"], modules_source="demo")
    add_pending(home, run_id, request)  # accepted, then its worker died before creating it an hour ago
    marker = home / FOLDER / f"{run_id}.json"
    marker.write_text(json.dumps({**json.loads(marker.read_text()), "submitted_at": time.time() - 3600}))
    assert service.get_run(run_id).status == "queued"

    service.warm_up()  # a worker starting to serve this home adopts it
    info = wait_until(lambda: (i := service.get_run(run_id)).finished and i, "the adopted run")
    assert (info.status, info.modules) == ("success", ["vo2max"])
    assert read_pending(home, run_id) is None

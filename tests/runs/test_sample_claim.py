"""One run of a sample at a time, whoever starts it: a command refuses a sample another run holds, and a failed
first run does not delete the sample a later-accepted run is working on."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import dagster as dg
import pytest

from just_dna_pipelines.modules.demo import ensure_demo_sample
from just_dna_pipelines.runs import tags
from just_dna_pipelines.runs.config import RunRequest
from just_dna_pipelines.runs.execute import ensure_partition, forget_partition_if_unused
from just_dna_pipelines.runs.instance import get_instance
from just_dna_pipelines.runs.pending import add_pending
from just_dna_pipelines.runs.queue import SAMPLE_BUSY
from just_dna_pipelines.runs.sample_claim import claim_sample, other_runs_of, sample_claimed
from tests.held_claims import claim_let_go_after


def annotate(vcf: Path, user: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "just_dna_pipelines.cli", "annotate-modules", "--vcf", str(vcf), "--user", user,
         "--modules-source", "demo"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.mark.slow
def test_a_command_refuses_a_sample_another_run_holds_and_leaves_its_results_alone(
    pipeline_env, tmp_path: Path
) -> None:
    vcf = ensure_demo_sample(tmp_path)
    first = annotate(vcf, "u")
    assert first.returncode == 0, first.stderr
    sample_dir = pipeline_env.output_dir / "users/u/demo_sample"
    before = {p.relative_to(sample_dir): p.stat().st_mtime_ns for p in sample_dir.rglob("*") if p.is_file()}

    with claim_sample(get_instance(), "u/demo_sample"):  # another command's run of it, going on
        second = annotate(vcf, "u")
        other_sample = annotate(vcf, "v")  # another person's sample is not held
    assert second.returncode == 2
    assert second.stderr.strip() == f"error: {SAMPLE_BUSY}"
    after = {p.relative_to(sample_dir): p.stat().st_mtime_ns for p in sample_dir.rglob("*") if p.is_file()}
    assert after == before  # nothing of the held run's sample was touched
    assert other_sample.returncode == 0, other_sample.stderr

    third = annotate(vcf, "u")  # held no more
    assert third.returncode == 0, third.stderr
    # and no claim's file is left to name a sample (a digest of user/sample) once its runs are over
    claims = Path(get_instance().root_directory) / "sample-claims"
    assert not claims.exists() or not any(claims.iterdir()), list(claims.iterdir())
    assert not sample_claimed(get_instance(), "u/demo_sample")


def test_a_failed_first_run_keeps_a_sample_another_run_was_accepted_for(pipeline_env, tmp_path: Path) -> None:
    instance = get_instance()
    key = "u/genome"
    ensure_partition(instance, key)
    sample_dir = pipeline_env.output_dir / "users/u/genome"
    (sample_dir / "normalized").mkdir(parents=True)
    (sample_dir / "normalized" / "variants.parquet").write_bytes(b"the later run's table")
    add_pending(
        Path(instance.root_directory), str(uuid.uuid4()), RunRequest(partition_key=key, vcf_path="/x.vcf")
    )

    forget_partition_if_unused(key)  # what a failed command does after its run
    assert (sample_dir / "normalized" / "variants.parquet").is_file()
    assert instance.has_dynamic_partition("user_vcf_files", key)


def test_a_dead_run_that_is_not_ours_does_not_hold_the_sample(pipeline_env, tmp_path: Path) -> None:
    """A run of an earlier version, or one started from the Dagster UI, left STARTED with its process gone: nothing
    of ours can end it, so it must not refuse every later command of the sample."""
    instance = get_instance()
    ensure_partition(instance, "u/demo_sample")
    instance.add_run(
        dg.DagsterRun(
            job_name="annotate_and_report_job",
            run_id=str(uuid.uuid4()),
            status=dg.DagsterRunStatus.STARTED,
            tags={tags.PARTITION: "u/demo_sample", tags.MODULES: "vo2max"},  # no launcher: not ours
        )
    )
    assert not other_runs_of(instance, "u/demo_sample")
    with claim_sample(instance, "u/demo_sample"):
        assert sample_claimed(instance, "u/demo_sample")  # what a web launch sees meanwhile
    assert not sample_claimed(instance, "u/demo_sample")


# Takes a sample's claim as a command's run does, says so, then waits to be killed.
HOLD_AND_WAIT = """
import sys, time
from just_dna_pipelines.runs.instance import get_instance
from just_dna_pipelines.runs.sample_claim import claim_sample
with claim_sample(get_instance(), sys.argv[1]):
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_killed_runs_claim_file_is_removed_by_the_next_claim(pipeline_env) -> None:
    """A command killed outright (SIGKILL) cannot remove its claim's file, a digest of user/sample naming a sample
    maybe deleted since: the next claim of any sample removes the files nobody holds, and leaves a held one."""
    instance = get_instance()
    claims = Path(instance.root_directory) / "sample-claims"
    killed = subprocess.Popen(
        [sys.executable, "-c", HOLD_AND_WAIT, "u/gone"], stdout=subprocess.PIPE, text=True
    )
    alive = subprocess.Popen(
        [sys.executable, "-c", HOLD_AND_WAIT, "u/busy"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert killed.stdout is not None and killed.stdout.readline() == "held\n"
        assert alive.stdout is not None and alive.stdout.readline() == "held\n"
        killed.kill()
        killed.wait(timeout=30)
        assert len(list(claims.iterdir())) == 2  # the killed run's file stayed
        with claim_sample(instance, "v/other"):
            assert sample_claimed(instance, "u/busy")
            assert not sample_claimed(instance, "u/gone")
            assert len(list(claims.iterdir())) == 2  # the live run's and this one's
        assert sample_claimed(instance, "u/busy")
        assert len(list(claims.iterdir())) == 1
    finally:
        for proc in (killed, alive):
            proc.kill()
            proc.wait(timeout=30)


def test_a_command_right_after_a_run_ended_waits_for_it_to_let_the_sample_go(pipeline_env) -> None:
    """A run holds its sample a moment after its end is recorded (while it drops or puts back what it kept): a
    command started in that moment was refused with "already has a run"."""
    instance = get_instance()
    with (
        claim_let_go_after(instance, "u/demo_sample", 0.5),
        claim_sample(instance, "u/demo_sample"),
    ):
        assert sample_claimed(instance, "u/demo_sample")

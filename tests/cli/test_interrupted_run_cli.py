"""Ctrl-C during `pipelines annotate-modules` (a real process, cold): the command says so in one line and exits 130,
the sample is as it was before the command, no staging is left, and the run ends canceled in the instance. A run
that fails leaves the sample as it was too: a run's outputs count only as a whole."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import dagster as dg
import pytest

from just_dna_pipelines.modules.demo import ensure_demo_sample
from tests.interrupted_runs import (
    PROGRAM,
    STEP_STARTS,
    folder_state,
    has_partition,
    interrupt_at,
    no_staging_left,
    run_id_of,
    run_status,
)

CHR21 = "PG_NA12878_hg38-chr21.vcf.gz"


def annotate_args(genome: Path) -> list[str]:
    return [
        "annotate-modules",
        "--vcf",
        str(genome),
        "--user",
        "u",
        "--sample",
        "s",
        "--modules-source",
        "demo",
    ]


def annotate(genome: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PROGRAM), *annotate_args(genome)], capture_output=True, text=True, timeout=120)


def first_run(pipeline_env, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The demo sample annotated and reported as u/s: its folder, and the state of its files."""
    first = annotate(ensure_demo_sample(tmp_path))
    assert first.returncode == 0, first.stderr
    sample_dir = pipeline_env.output_dir / "users/u/s"
    before = folder_state(sample_dir)
    assert "reports/longevity_report.html" in before and "modules/manifest.json" in before
    return sample_dir, before


@pytest.mark.parametrize("step", STEP_STARTS)
def test_a_first_run_interrupted_leaves_nothing(pipeline_env, tmp_path: Path, step: str) -> None:
    """Before: source.json, normalized/ or modules/ of the interrupted run stayed, with .staging/<run>/, and the
    run stayed STARTED for good."""
    code, out, err = interrupt_at(annotate_args(ensure_demo_sample(tmp_path)), step)
    assert (code, err) == (130, "error: interrupted\n"), err
    assert not (pipeline_env.output_dir / "users").exists()
    assert no_staging_left(pipeline_env.output_dir)
    assert run_status(run_id_of(out)) == dg.DagsterRunStatus.CANCELED
    assert not has_partition("u/s")


@pytest.mark.parametrize("step", STEP_STARTS[1:])
def test_a_rerun_with_another_genome_interrupted_leaves_the_previous_outputs(
    pipeline_env, genomes: Path, tmp_path: Path, step: str
) -> None:
    """Before: the sample's folder mixed the new genome's source.json and normalized table (and module results,
    interrupted in the report) with the previous genome's results and report."""
    sample_dir, before = first_run(pipeline_env, tmp_path)
    code, out, err = interrupt_at(annotate_args(genomes / CHR21), step)
    assert (code, err) == (130, "error: interrupted\n"), err
    assert folder_state(sample_dir) == before
    assert no_staging_left(pipeline_env.output_dir)
    assert run_status(run_id_of(out)) == dg.DagsterRunStatus.CANCELED
    assert has_partition("u/s")


def test_a_rerun_that_fails_leaves_the_previous_outputs(pipeline_env, genomes: Path, tmp_path: Path) -> None:
    """Before: the failed run's source.json (naming the new genome) replaced the previous run's beside its results."""
    sample_dir, before = first_run(pipeline_env, tmp_path)
    cut = tmp_path / "cut.vcf.gz"  # its header reads, so the run starts; its normalize step fails
    data = (genomes / CHR21).read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    failed = annotate(cut)
    assert failed.returncode == 2 and "truncated" in failed.stderr, failed.stderr
    assert folder_state(sample_dir) == before
    assert no_staging_left(pipeline_env.output_dir)
    assert run_status(run_id_of(failed.stdout)) == dg.DagsterRunStatus.FAILURE


def test_a_killed_reruns_outputs_are_put_back_before_the_next_run(
    pipeline_env, genomes: Path, tmp_path: Path
) -> None:
    """A re-run killed outright (kill -9) puts nothing back itself; the next command of the sample ends it and puts
    back what it kept. Before: the killed run's source.json and normalized table stayed, and the next run (here one
    that fails) kept and restored that mixed folder."""
    sample_dir, before = first_run(pipeline_env, tmp_path)
    code, out, _ = interrupt_at(annotate_args(genomes / CHR21), STEP_STARTS[1], sig=signal.SIGKILL)
    assert code == -signal.SIGKILL
    assert folder_state(sample_dir) != before  # what it published before it was killed
    cut = tmp_path / "cut.vcf.gz"
    data = (genomes / CHR21).read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    assert annotate(cut).returncode == 2
    assert folder_state(sample_dir) == before
    assert no_staging_left(pipeline_env.output_dir)
    assert run_status(run_id_of(out)) == dg.DagsterRunStatus.FAILURE


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_a_command_whose_caller_ignores_ctrl_c_runs_to_the_end(pipeline_env, tmp_path: Path) -> None:
    """A script's background job ignores Ctrl-C: the run takes no Dagster handler that would stop it. Before: the
    run went on, but Dagster's helper watching `tail -F` took the group's SIGINT and printed a traceback (Polars
    catches SIGINT once loaded, so the helpers did not inherit it ignored). Sent as the source step starts:
    Polars' handler raises KeyboardInterrupt in a query that is running, whatever the caller asked; it runs none."""
    code, out, err = interrupt_at(
        annotate_args(ensure_demo_sample(tmp_path)), "user_vcf_source ...", preexec_fn=_ignore_sigint
    )
    assert (code, err) == (0, ""), err
    assert "report: " in out
    assert "reports/longevity_report.html" in folder_state(pipeline_env.output_dir / "users/u/s")
    assert no_staging_left(pipeline_env.output_dir)
    assert run_status(run_id_of(out)) == dg.DagsterRunStatus.SUCCESS


def test_a_killed_reruns_outputs_are_not_put_back_over_a_later_run_from_the_dagster_ui(
    pipeline_env, genomes: Path, tmp_path: Path
) -> None:
    """A command killed outright, then a run of the sample from the Dagster UI (not one of ours: it does not wait for
    the dead one to be ended) that succeeds: whoever ends the dead run later must not put back what it kept over the
    newer run's outputs. Before: reading the dead run (the web app's run list) put the first run's folder back."""
    from just_dna_pipelines import service
    from tests.defs.test_whole_runs import execute_job_of

    sample_dir, before = first_run(pipeline_env, tmp_path)
    code, out, _ = interrupt_at(annotate_args(genomes / CHR21), STEP_STARTS[1], sig=signal.SIGKILL)
    assert code == -signal.SIGKILL
    later = execute_job_of("u/s", genomes / CHR21, ["longevitymap"])
    assert later.status == dg.DagsterRunStatus.SUCCESS
    after = folder_state(sample_dir)
    assert after != before
    assert service.get_run(run_id_of(out)).status == "failure"  # a reader ends the dead run
    assert folder_state(sample_dir) == after
    assert no_staging_left(pipeline_env.output_dir)


@pytest.mark.parametrize("fails", [False, True])
def test_a_command_killed_after_its_run_ended_has_its_kept_outputs_handled_by_a_reader(
    pipeline_env, genomes: Path, tmp_path: Path, fails: bool
) -> None:
    """A command records its run's end before it drops (success) or puts back (failure, cancel) what it kept: killed
    in between (kill -9 a tenth of a second after its last step, or by the cancel's SIGKILL after the grace), its run
    has ended, so no one ended it again. Before: its `.staging/<run>/previous-outputs` stayed for good (hard links
    holding the previous outputs' bytes), and a failed run's outputs stayed beside the previous results. Here the
    state such a kill leaves is made from a run that ended: its folder kept again as the command had kept it."""
    from just_dna_pipelines import service
    from just_dna_pipelines.runs.previous_outputs import keep_previous_outputs

    sample_dir, _ = first_run(pipeline_env, tmp_path)
    if fails:
        cut = tmp_path / "cut.vcf.gz"
        data = (genomes / CHR21).read_bytes()
        cut.write_bytes(data[: len(data) // 2])
        ended = annotate(cut)
        assert ended.returncode == 2
    else:
        ended = annotate(ensure_demo_sample(tmp_path))
        assert ended.returncode == 0
    run_id = run_id_of(ended.stdout)
    after = folder_state(sample_dir)
    keep_previous_outputs(sample_dir, run_id)
    if fails:
        (tmp_path / "source.json").write_text("{}")  # what the failed run published (renamed onto its place)
        (tmp_path / "source.json").replace(sample_dir / "source.json")
    assert service.get_run(run_id).status == ("failure" if fails else "success")  # a reader looks at it
    assert folder_state(sample_dir) == after
    assert no_staging_left(pipeline_env.output_dir)


def test_a_command_killed_before_its_run_started_is_ended_by_a_reader(pipeline_env, tmp_path: Path) -> None:
    """A command killed outright between creating its run and starting it (kill -9 six tenths of a second in, on two
    cores) left the run NOT_STARTED for good, naming a dead process, with its staging (the kept folder's hard links
    and a normalized table made ahead). Before: no one ever ended it or removed its staging. Here its process is a
    real one killed, its run and kept folder made as the command makes them."""
    import uuid

    from just_dna_pipelines import service
    from just_dna_pipelines.runs import tags
    from just_dna_pipelines.runs.instance import get_instance
    from just_dna_pipelines.runs.previous_outputs import keep_previous_outputs

    sample_dir, before = first_run(pipeline_env, tmp_path)
    command = subprocess.Popen(["sleep", "60"])
    process = tags.process_tags("run", command.pid)
    command.kill()
    command.wait()
    run_id = str(uuid.uuid4())
    get_instance().add_run(
        dg.DagsterRun(
            job_name="annotate_and_report_job",
            run_id=run_id,
            status=dg.DagsterRunStatus.NOT_STARTED,
            tags={tags.LAUNCHER: "cli", tags.PARTITION: "u/s", **process},
        )
    )
    keep_previous_outputs(sample_dir, run_id)
    assert service.get_run(run_id).status == "failure"
    assert folder_state(sample_dir) == before
    assert no_staging_left(pipeline_env.output_dir)

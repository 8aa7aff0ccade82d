"""`pipelines stream-bam`: runs streaming_bam_job on the persistent instance and prints one summary line."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from just_dna_pipelines.bam.source import locate
from just_dna_pipelines.cli import main
from just_dna_pipelines.settings import get_settings

from .conftest import HTSNEXUS, DerivedAlignments, genome, serve_folder


def test_stream_bam_writes_chunks_and_records_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "json"
    assert main(["stream-bam", str(genome(HTSNEXUS)), "--chunk-size", "2500", "--output-dir", str(out)]) == 0
    printed = capsys.readouterr()
    assert "39,918 reads (27,214 mapped, 12,475 unplaced unmapped) in 16 chunks" in printed.out
    assert "100%" in printed.err  # the progress bar reached the end
    folder = out / locate(str(genome(HTSNEXUS))).output_name
    assert re.fullmatch(r"htsnexus_test_NA12878-[0-9a-f]{8}", folder.name)
    assert [p.name for p in out.iterdir()] == [folder.name]  # no staging folder left
    assert f"-> {folder} " in printed.out
    assert len(list(folder.glob("chunk_*.json"))) == 16
    assert json.loads((folder / "chunk_000016.json").read_text())["chunk_info"]["total_chunks"] == 16
    instance = dg.DagsterInstance.from_config(str(get_settings().dagster_home))
    runs = instance.get_runs()
    assert [(r.job_name, r.is_success) for r in runs] == [("streaming_bam_job", True)]
    # The command started streaming before Dagster loaded, and the run's step took that stream.
    outputs = [
        event.dagster_event.step_output_data
        for event in instance.all_logs(runs[0].run_id, of_type=dg.DagsterEventType.STEP_OUTPUT)
        if event.dagster_event is not None and event.dagster_event.step_output_data.output_name == "file_info"
    ]
    assert [o.metadata["started_before_run"].value for o in outputs] == [True]


def test_stream_bam_bad_input_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "x.bam"
    text.write_text("hello")
    assert main(["stream-bam", str(text), "--output-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"error: {text} is text that is not SAM; only BAM, CRAM and SAM (plain, gzip or BGZF) can be streamed"
    ]
    assert not (tmp_path / "out").exists()


def test_stream_bam_rejects_a_zero_chunk_size(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stream-bam", "x.bam", "--chunk-size", "0"]) == 2
    assert "chunk-size" in capsys.readouterr().err


HTSLIB_LOG_LINE = re.compile(r"^\[[EWID]::")
# what the progress bar prints when stderr is not a terminal
PROGRESS_LINE = re.compile(
    r"^\[[#.]{30}\] +\d+%  [\d,]+ reads(  [\d.]+ M reads/s)?$"
)  # speed after RATE_AFTER_S


def _pipelines(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`pipelines ...` in a real process (htslib writes to the process's own stderr, not to sys.stderr)."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("pipelines")), *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_a_cram_without_its_reference_streams_in_a_real_process(
    derived: DerivedAlignments, tmp_path: Path
) -> None:
    with serve_folder(tmp_path / "references") as trap:
        done = _pipelines(
            ["stream-bam", str(derived.cram), "--chunk-size", "5000", "--output-dir", str(tmp_path / "out")],
            tmp_path,
            REF_PATH=f"{trap.base_url}/%s",
            REF_CACHE=str(tmp_path / "ref_cache" / "%s"),
        )
        assert trap.requests == []
    assert done.returncode == 0, done.stderr
    assert "52,035 reads (51,873 mapped, 0 unplaced unmapped) in 11 chunks" in done.stdout
    assert not [line for line in done.stderr.splitlines() if HTSLIB_LOG_LINE.match(line)]


def _damaged(derived: DerivedAlignments, damage: str, folder: Path) -> tuple[Path, str]:
    """A broken input and what its error line must say after the path."""
    cram = bytearray(derived.cram.read_bytes())
    if damage == "cut cram":
        path, data = folder / "cut.cram", bytes(cram[: len(cram) // 2])
        reason = " is truncated: the CRAM end-of-file container is missing"
    elif damage == "cram container":  # the second container's header
        crai = gzip.decompress(derived.cram.with_name(derived.cram.name + ".crai").read_bytes()).decode()
        at = sorted({int(row.split("\t")[3]) for row in crai.splitlines()})[1] + 8
        cram[at : at + 2] = bytes(b ^ 0xFF for b in cram[at : at + 2])
        path, data = folder / "damaged.cram", bytes(cram)
        reason = " is corrupt: the CRAM data after record 10,000 cannot be decoded"
    else:  # a mapped read in a SAM without @SQ lines: htslib logs an error and a warning of its own
        path, data = folder / "no_sq.sam", b"@HD\tVN:1.6\nr1\t0\tchr1\t100\t60\t4M\t*\t0\t0\tACGT\tIIII\n"
        reason = ": line 2 is not a valid SAM record (the header has no @SQ lines, so no read can name a reference)"
    path.write_bytes(data)
    return path, reason


@pytest.mark.parametrize("damage", ["cut cram", "cram container", "sam without sq"])
def test_a_broken_input_is_one_error_line_in_a_real_process(
    damage: str, derived: DerivedAlignments, tmp_path: Path
) -> None:
    broken, reason = _damaged(derived, damage, tmp_path)
    done = _pipelines(["stream-bam", str(broken), "--output-dir", str(tmp_path / "out")], tmp_path)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if not PROGRESS_LINE.match(line)]
    assert errors == [f"error: {broken}{reason}"]
    assert not (tmp_path / "out").exists()


def test_the_progress_bar_shows_a_speed_only_once_there_is_one_to_tell(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from just_dna_pipelines.cli.progress import RATE_AFTER_S
    from just_dna_pipelines.cli.stream_bam import ProgressBar

    bar = ProgressBar()
    bar(19_747, 2_000_000, 10_000_000)  # the first buffer, a few milliseconds in
    first = capsys.readouterr().err
    assert "19,747 reads" in first and "reads/s" not in first  # it once said "1,694 M reads/s" here
    time.sleep(RATE_AFTER_S)
    bar(1_000_000, 6_000_000, 10_000_000)
    later = capsys.readouterr().err
    rate = float(re.search(r"1,000,000 reads  ([0-9.]+) M reads/s", later).group(1))  # type: ignore[union-attr]
    assert 0 < rate <= 1.0 / RATE_AFTER_S  # a million reads in at least RATE_AFTER_S


def test_an_error_before_the_first_read_is_one_line_on_a_terminal(pipeline_env, tmp_path: Path) -> None:
    """On a terminal the bar ends its line only once drawn: no empty line before the error."""
    import pty
    import select

    garbage = tmp_path / "garbage.bam"
    garbage.write_text("not a bam\n")
    pipelines = str(Path(sys.executable).with_name("pipelines"))
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command on the terminal, never back into pytest
        try:
            os.execv(
                pipelines, [pipelines, "stream-bam", str(garbage), "--output-dir", str(tmp_path / "out")]
            )
        finally:
            os._exit(127)
    shown = b""
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if not select.select([fd], [], [], 1.0)[0]:
                continue
            try:
                data = os.read(fd, 4096)
            except OSError:  # the terminal closed with the command
                break
            if not data:
                break
            shown += data
    finally:
        os.close(fd)
        if time.monotonic() >= deadline:
            os.kill(pid, 9)  # hung: the assertion below says so
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 2
    only = "only BAM, CRAM and SAM (plain, gzip or BGZF) can be streamed"
    assert shown.decode().splitlines() == [f"error: {garbage} is text that is not SAM; {only}"]

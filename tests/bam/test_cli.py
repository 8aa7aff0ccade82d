"""`pipelines stream-bam`: runs streaming_bam_job on the persistent instance and prints one summary line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import dagster as dg
import pytest

from just_dna_pipelines.bam.source import locate
from just_dna_pipelines.cli import main
from just_dna_pipelines.settings import get_settings

from .conftest import HTSNEXUS, genome


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
    runs = dg.DagsterInstance.from_config(str(get_settings().dagster_home)).get_runs()
    assert [(r.job_name, r.is_success) for r in runs] == [("streaming_bam_job", True)]


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

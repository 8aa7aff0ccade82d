"""streaming_bam_job end to end: JSON files in the issue's shape, figures equal to pysam, atomic output."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

from just_dna_pipelines.defs.bam import (
    StreamingBamChunkProcessor,
    StreamingBamChunkStreamer,
    build_streaming_bam_job,
)
from just_dna_pipelines.defs.bam.sensors import stream_run_config

from .conftest import HTSNEXUS, NA12878_S1, DerivedAlignments, genome, output_folder, pysam_chunks

REPO = Path(__file__).resolve().parents[2]


def _run(bam: str, output: Path, chunk_size: int, batch_reads: int = 2_000_000) -> dg.ExecuteInProcessResult:
    job = build_streaming_bam_job(
        StreamingBamChunkStreamer(batch_reads=batch_reads),
        StreamingBamChunkProcessor(output_directory=str(output)),
    )
    return job.execute_in_process(run_config=stream_run_config(bam, chunk_size))


def _chunk_files(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob("chunk_*.json"))]


@pytest.mark.parametrize("name", [HTSNEXUS, NA12878_S1])
def test_job_writes_one_json_per_chunk_matching_pysam(name: str, tmp_path: Path) -> None:
    bam = genome(name)
    # a small batch size forces several mapped steps (and chunks that straddle record batches)
    result = _run(str(bam), tmp_path, chunk_size=1000, batch_reads=7000)
    assert result.success
    folder = output_folder(tmp_path, bam)
    docs = _chunk_files(folder)
    expected = pysam_chunks(bam, 1000)
    assert len(docs) == len(expected)
    assert len(result.output_for_node("stream_bam_chunks_op", "batches")) == -(-len(expected) // 7)
    for doc, want in zip(docs, expected, strict=True):
        assert set(doc) == {"stats", "chunk_info"}
        assert doc["chunk_info"] == {
            "chunk_id": want.chunk_id,
            "total_chunks": len(expected),
            "bam_url": str(bam),
        }
        assert doc["stats"] == {
            "total_reads": want.total_reads,
            "mapped_reads": want.mapped_reads,
            "unmapped_reads": want.total_reads - want.mapped_reads,
            "avg_mapping_quality": want.avg_mapping_quality,
            "position_range": {"min": want.position_min, "max": want.position_max},
        }
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["stats"]["total_reads"] == sum(d["stats"]["total_reads"] for d in docs)
    assert summary["stats"]["mapped_reads"] == sum(d["stats"]["mapped_reads"] for d in docs)
    assert summary["file_info"]["total_chunks"] == len(docs)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_htsnexus_summary_counts(tmp_path: Path) -> None:
    result = _run(str(genome(HTSNEXUS)), tmp_path, chunk_size=1000)
    summary = json.loads(
        (Path(result.output_for_node("publish_bam_summary_op")) / "summary.json").read_text()
    )
    stats = summary["stats"]
    assert (stats["total_reads"], stats["mapped_reads"], stats["unmapped_reads"]) == (39_918, 27_214, 12_704)
    assert stats["unplaced_unmapped_reads"] == 12_475
    assert summary["file_info"]["index_total_reads"] == 39_918


def test_rerun_with_another_chunk_size_replaces_the_whole_folder(tmp_path: Path) -> None:
    bam = str(genome(HTSNEXUS))
    _run(bam, tmp_path, chunk_size=500)
    assert len(_chunk_files(output_folder(tmp_path, bam))) == 80
    _run(bam, tmp_path, chunk_size=10_000)
    docs = _chunk_files(output_folder(tmp_path, bam))
    assert len(docs) == 4  # no stale chunk_000005..80 files from the first run
    assert {d["chunk_info"]["total_chunks"] for d in docs} == {4}


def test_failed_run_leaves_earlier_output_untouched(tmp_path: Path) -> None:
    bam = tmp_path / "in" / HTSNEXUS
    bam.parent.mkdir()
    bam.write_bytes(genome(HTSNEXUS).read_bytes())
    _run(str(bam), tmp_path / "out", chunk_size=1000)
    folder = output_folder(tmp_path / "out", bam)
    before = sorted((p.name, p.read_bytes()) for p in folder.iterdir())
    # the same file, now truncated: the run fails and the published folder stays as it was
    bam.write_bytes(genome(HTSNEXUS).read_bytes()[: bam.stat().st_size // 2])
    job = build_streaming_bam_job(
        StreamingBamChunkStreamer(), StreamingBamChunkProcessor(output_directory=str(tmp_path / "out"))
    )
    result = job.execute_in_process(run_config=stream_run_config(str(bam), 1000), raise_on_error=False)
    assert not result.success
    assert sorted((p.name, p.read_bytes()) for p in folder.iterdir()) == before
    assert [p.name for p in (tmp_path / "out").iterdir()] == [folder.name]  # no staging folder left


def test_bams_that_share_a_file_name_get_their_own_folders(tmp_path: Path) -> None:
    # Two different BAMs called reads.bam in two folders, and the first one again by file:// URL.
    first, second = tmp_path / "a" / "reads.bam", tmp_path / "b" / "reads.bam"
    for copy, source in ((first, HTSNEXUS), (second, NA12878_S1)):
        copy.parent.mkdir()
        copy.write_bytes(genome(source).read_bytes())
    out = tmp_path / "out"
    _run(str(first), out, chunk_size=1000)
    _run(str(second), out, chunk_size=1000)
    _run(first.as_uri(), out, chunk_size=1000)
    folders = sorted(p.name for p in out.iterdir())
    assert len(folders) == 2 and all(re.fullmatch(r"reads-[0-9a-f]{8}", name) for name in folders)
    totals = {
        json.loads((out / name / "summary.json").read_text())["stats"]["total_reads"] for name in folders
    }
    assert totals == {39_918, 52_035}


def test_a_failing_chunk_step_leaves_no_partial_folder(tmp_path: Path) -> None:
    """Batch 1 is written, batch 2 fails (a folder sits where chunk 10 goes): the failure hook cleans up."""
    bam = genome(HTSNEXUS)
    run_id = "0badc0de-0000-4000-8000-000000000000"
    staging = tmp_path / f".{output_folder(tmp_path, bam).name}.{run_id}.partial"
    (staging / "chunk_000010.json").mkdir(parents=True)
    job = build_streaming_bam_job(
        StreamingBamChunkStreamer(batch_reads=7000),
        StreamingBamChunkProcessor(output_directory=str(tmp_path)),
    )
    result = job.execute_in_process(
        run_config=stream_run_config(str(bam), 1000), raise_on_error=False, run_id=run_id
    )
    assert not result.success
    assert not staging.exists()
    assert not output_folder(tmp_path, bam).exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("module", ["just_dna_pipelines.definitions", "just_dna_pipelines.bam_definitions"])
def test_dagster_job_execute_cli_with_the_issue_run_config(tmp_path: Path, module: str) -> None:
    bam = genome(HTSNEXUS)
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(stream_run_config(str(bam), 2000)))
    output = tmp_path / "output"
    env = {**os.environ, "DAGSTER_HOME": str(home), "JUST_DNA_PIPELINES_OUTPUT_DIR": str(output)}
    dagster = Path(sys.executable).with_name("dagster")
    done = subprocess.run(
        [
            str(dagster),
            "job",
            "execute",
            "-m",
            module,
            "-j",
            "streaming_bam_job",
            "-c",
            str(config),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    folder = output_folder(output / "bam", bam)
    assert len(list(folder.glob("chunk_*.json"))) == 20
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["stats"]["total_reads"] == 39_918
    runs = dg.DagsterInstance.from_config(str(home)).get_runs()
    assert [r.job_name for r in runs] == ["streaming_bam_job"]


@pytest.mark.parametrize(("kind", "described"), [("cram", "CRAM 3.0"), ("sam_bgzf", "SAM (BGZF-compressed)")])
def test_the_job_streams_cram_and_sam_like_their_bam(
    kind: str, described: str, derived: DerivedAlignments, tmp_path: Path
) -> None:
    source = derived.all()[kind]
    result = _run(str(source), tmp_path / "out", chunk_size=1000, batch_reads=7000)
    assert result.success
    docs = _chunk_files(output_folder(tmp_path / "out", source))
    _run(str(derived.bam), tmp_path / "bam", chunk_size=1000)
    from_bam = _chunk_files(output_folder(tmp_path / "bam", derived.bam))
    assert [d["stats"] for d in docs] == [d["stats"] for d in from_bam]
    assert {d["chunk_info"]["bam_url"] for d in docs} == {str(source)}
    summary = json.loads((output_folder(tmp_path / "out", source) / "summary.json").read_text())
    assert summary["file_info"]["format"] == described
    (output,) = [
        e
        for e in result.all_events
        if e.event_type_value == "STEP_OUTPUT" and e.step_key == "stream_bam_chunks_op"
        if e.event_specific_data.step_output_handle.output_name == "file_info"  # type: ignore[union-attr]
    ]
    reader = output.event_specific_data.metadata["reader"].value  # type: ignore[union-attr]
    assert reader == f"{described}: htslib decoder + C scanner"


def test_a_cram_damaged_mid_stream_publishes_nothing(derived: DerivedAlignments, tmp_path: Path) -> None:
    crai = gzip.decompress(derived.cram.with_name(derived.cram.name + ".crai").read_bytes()).decode()
    at = sorted({int(row.split("\t")[3]) for row in crai.splitlines()})[3] + 8  # after 30,000 good reads
    data = bytearray(derived.cram.read_bytes())
    data[at : at + 2] = bytes(b ^ 0xFF for b in data[at : at + 2])
    damaged = tmp_path / "in" / "damaged.cram"
    damaged.parent.mkdir()
    damaged.write_bytes(bytes(data))
    job = build_streaming_bam_job(
        StreamingBamChunkStreamer(batch_reads=7000),
        StreamingBamChunkProcessor(output_directory=str(tmp_path / "out")),
    )
    result = job.execute_in_process(run_config=stream_run_config(str(damaged), 1000), raise_on_error=False)
    assert not result.success
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []

"""The annotation assets materialized for real on a temp Dagster instance, and the IO manager's atomicity."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import polars as pl

from just_dna_pipelines.runs.config import RunRequest
from just_dna_pipelines.runs.execute import execute_run
from just_dna_pipelines.runs.instance import get_instance

ASSETS = ["user_vcf_source", "user_vcf_normalized", "user_hf_module_annotations"]


def test_materialize_partition_writes_outputs_and_metadata(
    pipeline_env, genomes: Path, compiled_modules: Path
) -> None:
    request = RunRequest(
        partition_key="alice/na12878",
        vcf_path=str(genomes / "PG_NA12878_hg38-chr21.vcf.gz"),
        modules=["longevitymap", "coronary"],
        modules_source=str(compiled_modules),
        read_mode="full",
        report=False,
    )
    result = execute_run(request)
    assert result.success
    sample_dir = pipeline_env.output_dir / "users" / "alice" / "na12878"
    manifest = json.loads((sample_dir / "modules" / "manifest.json").read_text())
    assert set(manifest["modules"]) == {"longevitymap", "coronary"}
    assert manifest["modules"]["longevitymap"]["matched"] == 3
    assert manifest["input"]["records"] == 65_370 and manifest["input"]["genome_build"] == "GRCh38"
    assert manifest["input"]["read_mode"] == "full" and manifest["input"]["records_kept"] == 60_206
    assert manifest["peak_rss_mb"] > 50 and manifest["duration_s"] > 0
    matched = pl.read_parquet(sample_dir / "modules" / "longevitymap_weights.parquet")
    assert sorted(matched["rsid"]) == ["rs2253363", "rs3788157", "rs414743"]
    assert pl.read_parquet(sample_dir / "normalized" / "variants.parquet").height == 65_370
    assert not any((pipeline_env.output_dir / ".staging").iterdir())

    instance = get_instance()
    for name in ASSETS:
        event = instance.get_latest_materialization_event(dg.AssetKey(name))
        assert event is not None and event.asset_materialization is not None
        assert event.asset_materialization.partition == "alice/na12878"
        metadata = event.asset_materialization.metadata
        for key in ("duration_s", "cpu_percent", "peak_rss_mb", "size_bytes", "path"):
            assert key in metadata, (name, key)
        assert metadata["peak_rss_mb"].value > 0
    normalized = instance.get_latest_materialization_event(dg.AssetKey("user_vcf_normalized"))
    assert normalized.asset_materialization.metadata["rows"].value == 65_370
    assert "genotype" in normalized.asset_materialization.metadata["schema"].value
    runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/partition": "alice/na12878"}))
    assert len(runs) == 1 and runs[0].status == dg.DagsterRunStatus.SUCCESS
    assert "alice/na12878" in instance.get_dynamic_partitions("user_vcf_files")


def test_indexed_vcf_is_read_at_module_sites_only(
    pipeline_env, genomes: Path, compiled_modules: Path
) -> None:
    def run(partition: str, mode: str) -> dict:
        request = RunRequest(
            partition_key=partition,
            vcf_path=str(genomes / "PG_NA12878_hg38-chr21.vcf.gz"),
            modules_source=str(compiled_modules),
            confident_regions=str(genomes / "PG_Conf_hg38-chr21.bed.gz"),
            read_mode=mode,
            report=False,
        )
        assert execute_run(request).success
        folder = pipeline_env.output_dir / "users" / partition
        matched = {
            name: pl.read_parquet(folder / "modules" / f"{name}_weights.parquet").sort("rsid")
            for name in ("longevitymap", "coronary", "superhuman")
        }
        return json.loads((folder / "modules" / "manifest.json").read_text()) | {"_matched": matched}

    sites = run("alice/by-sites", "auto")
    full = run("alice/full", "full")
    assert sites["input"]["read_mode"] == "module_sites" and full["input"]["read_mode"] == "full"
    assert sites["input"]["records"] == full["input"]["records"] == 65_370
    for name in sites["_matched"]:
        assert sites["_matched"][name].equals(full["_matched"][name]), name
        assert sites["modules"][name]["ledger"] == full["modules"][name]["ledger"], name
    assert sites["modules"]["longevitymap"]["matched"] == 5
    rows = pl.read_parquet(
        pipeline_env.output_dir / "users/alice/by-sites/normalized/variants.parquet"
    ).height
    assert rows < 100


def test_unknown_module_fails_the_run_without_outputs(
    pipeline_env, genomes: Path, compiled_modules: Path
) -> None:
    request = RunRequest(
        partition_key="bob/s1",
        vcf_path=str(genomes / "antku_small.vcf"),
        modules=["nosuchmodule"],
        modules_source=str(compiled_modules),
        report=False,
    )
    result = execute_run(request)
    assert not result.success
    assert not (pipeline_env.output_dir / "users" / "bob" / "s1" / "modules").exists()


KILL_SCRIPT = """
import sys
from just_dna_pipelines.runs.config import RunRequest
from just_dna_pipelines.runs.execute import execute_run
execute_run(RunRequest(partition_key="carol/big", vcf_path=sys.argv[1], modules_source=sys.argv[2], report=False))
"""


def test_killed_step_leaves_no_partial_output(pipeline_env, genomes: Path, compiled_modules: Path) -> None:
    env = os.environ | {"PYTHONDONTWRITEBYTECODE": "1"}
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILL_SCRIPT,
            str(genomes / "PG_NA12878_hg38-chr21.vcf.gz"),
            str(compiled_modules),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    staging = pipeline_env.output_dir / ".staging"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and child.poll() is None:
            if staging.is_dir() and any(staging.iterdir()):
                break
            time.sleep(0.005)
        assert child.poll() is None, "the run ended before its first staged write"
        os.killpg(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    sample_dir = pipeline_env.output_dir / "users" / "carol" / "big"
    assert not (sample_dir / "normalized" / "variants.parquet").exists()
    assert not (sample_dir / "modules").exists()

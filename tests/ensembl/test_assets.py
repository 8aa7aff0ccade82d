"""The Ensembl assets materialized for real on a temp Dagster instance: outputs, metadata, rsID fill in modules."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from just_dna_pipelines.report.build import build_report_data
from just_dna_pipelines.report.render import render_html
from just_dna_pipelines.runs.config import RunRequest
from just_dna_pipelines.runs.events import failure_message
from just_dna_pipelines.runs.execute import execute_run
from just_dna_pipelines.runs.instance import get_instance

pytestmark = pytest.mark.fixtures
MATCHED_ON_CHR21 = ["rs2253363", "rs3788157", "rs414743"]


@pytest.fixture
def held_out_modules(compiled_modules: Path, tmp_path: Path) -> Path:
    """The real modules with LongevityMap's chr21 coordinates removed: those rows are known only by rsID."""
    root = tmp_path / "held_out_modules"
    shutil.copytree(compiled_modules, root)
    weights_path = root / "longevitymap" / "weights.parquet"
    weights = pl.read_parquet(weights_path)
    chr21 = pl.col("chrom") == "21"
    weights.with_columns(
        pl.when(chr21).then(None).otherwise(pl.col(c)).alias(c) for c in ("chrom", "start", "ref")
    ).write_parquet(weights_path)
    return root


def run(pipeline_env, genomes: Path, partition: str, **kwargs) -> Path:
    """Execute one request for NA12878 chr21 and return the sample's output folder."""
    request = RunRequest(
        partition_key=partition,
        vcf_path=str(genomes / "PG_NA12878_hg38-chr21.vcf.gz"),
        report=False,
        **kwargs,
    )
    result = execute_run(request)
    errors = [
        e.step_failure_data.error.to_string()
        for e in result.all_events
        if e.event_type_value == "STEP_FAILURE"
    ]
    assert result.success, errors
    return pipeline_env.output_dir / "users" / partition


def test_both_engine_assets_write_the_same_table_with_lineage(
    pipeline_env, genomes: Path, real_reference: Path
) -> None:
    outputs = {}
    for engine in ("polars", "duckdb"):
        folder = run(
            pipeline_env,
            genomes,
            f"alice/{engine}",
            modules=[],
            ensembl=True,
            ensembl_engine=engine,
            ensembl_source=str(real_reference),
        )
        outputs[engine] = pl.read_parquet(folder / "ensembl" / "annotated.parquet").sort(
            "record", "alt_index"
        )
        manifest = json.loads((folder / "ensembl" / "manifest.json").read_text())
        assert manifest["engine"] == engine and manifest["rows"] == 66_050 and manifest["records"] == 65_370
        assert manifest["reference"]["revision"].startswith("local-")
        assert (folder / "ensembl" / "annotated.vcf.gz.tbi").is_file()
        assert not (folder / "modules").exists(), "no module was asked for"
    assert outputs["polars"].equals(outputs["duckdb"])

    instance = get_instance()
    for asset in ("user_annotated_vcf", "user_annotated_vcf_duckdb"):
        event = instance.get_latest_materialization_event(dg.AssetKey(asset))
        assert event is not None and event.asset_materialization is not None
        metadata = event.asset_materialization.metadata
        assert metadata["reference_revision"].value == manifest["reference"]["revision"]
        assert metadata["rows"].value == 66_050 and metadata["peak_rss_mb"].value > 0
        assert metadata["engine"].value == ("polars" if asset == "user_annotated_vcf" else "duckdb")
        assert event.asset_materialization.tags["dagster/code_version"] == "1"


def test_rsid_fill_reaches_the_module_ledger(
    pipeline_env, genomes: Path, real_reference: Path, held_out_modules: Path
) -> None:
    # read_mode full: with every chr21 coordinate held out no module site lies on this VCF's contigs, and
    # reading zero sites through the index fails in io/vcf_normalize today (reported, not ours to change).
    plain = run(
        pipeline_env,
        genomes,
        "bob/plain",
        modules=["longevitymap"],
        modules_source=str(held_out_modules),
        read_mode="full",
    )
    manifest = json.loads((plain / "modules" / "manifest.json").read_text())
    assert manifest["modules"]["longevitymap"]["matched"] == 0 and manifest["rsid_fill"] is None

    filled = run(
        pipeline_env,
        genomes,
        "bob/filled",
        modules=["longevitymap"],
        modules_source=str(held_out_modules),
        ensembl=True,
        ensembl_source=str(real_reference),
    )
    manifest = json.loads((filled / "modules" / "manifest.json").read_text())
    summary = manifest["modules"]["longevitymap"]
    assert summary["matched"] == 3 and summary["matched_via_filled_rsid"] == 3
    assert manifest["rsid_fill"]["records_filled"] > 0
    assert manifest["rsid_fill"]["revision"].startswith("local-")
    matched = pl.read_parquet(filled / "modules" / "longevitymap_weights.parquet")
    assert sorted(matched["rsid"]) == MATCHED_ON_CHR21
    # The report says how many matches came through a filled rsID, and from which reference revision.
    html = render_html(build_report_data(filled))
    assert '<span data-figure="longevitymap.matched_via_filled_rsid">3</span> of the matched variants' in html
    assert manifest["rsid_fill"]["revision"] in html and "records without an rsID got one from" in html

    # A later modules-only run (index read at module sites) still finds them: the fill says where they lie.
    again = run(
        pipeline_env, genomes, "bob/filled", modules=["longevitymap"], modules_source=str(held_out_modules)
    )
    manifest = json.loads((again / "modules" / "manifest.json").read_text())
    assert manifest["input"]["read_mode"] == "module_sites"
    assert manifest["modules"]["longevitymap"]["matched_via_filled_rsid"] == 3


def _refused(vcf: Path, partition: str, reference: Path, output_dir: Path) -> str:
    """Run an Ensembl-only annotation of `vcf` that must fail; its one-line message (nothing published)."""
    request = RunRequest(
        partition_key=partition,
        vcf_path=str(vcf),
        modules=[],
        report=False,
        ensembl=True,
        ensembl_source=str(reference),
    )
    result = execute_run(request)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert not (output_dir / "users" / partition / "ensembl").exists()
    return failure_message(failure.step_failure_data.error)


def test_grch37_input_is_refused_with_one_line(pipeline_env, genomes: Path, real_reference: Path) -> None:
    message = _refused(
        genomes / "PG_NA12878_chr21.vcf.gz", "carol/hg19", real_reference, pipeline_env.output_dir
    )
    assert message == "the VCF is GRCh37 but the Ensembl reference is GRCh38: positions cannot be compared"


def test_a_grch37_vcf_whose_header_does_not_say_so_is_refused(
    pipeline_env, genomes: Path, real_reference: Path, tmp_path: Path
) -> None:
    """The real GRCh37 genome without its ##contig/##reference lines: its build stays unknown, and a join by
    position with the GRCh38 reference would name variants at other places (it filled rsIDs before)."""
    import gzip

    lines = gzip.decompress((genomes / "PG_NA12878_chr21.vcf.gz").read_bytes()).decode().splitlines(True)
    silent = tmp_path / "hg19_silent.vcf"
    silent.write_text("".join(line for line in lines if not line.startswith(("##contig", "##reference"))))
    message = _refused(silent, "carol/silent", real_reference, pipeline_env.output_dir)
    assert message.startswith(
        "the VCF's genome build is unknown (neither its header nor its records tell), and the Ensembl reference "
        "is GRCh38: positions cannot be compared"
    )

"""Matching on real genomes with the real modules compiled from their SQLite databases."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from just_dna_pipelines.annotation.pipeline import SampleContext, annotate_sample
from just_dna_pipelines.io.vcf_normalize import normalize_vcf

MODULES = ["longevitymap", "lipidmetabolism", "vo2max", "superhuman", "coronary"]


def annotate(tmp_path: Path, vcf: Path, modules_root: Path, engine: str, bed: Path | None = None):
    calls = normalize_vcf(vcf, tmp_path / f"{vcf.name}.parquet")
    out = tmp_path / f"out-{engine}-{bed is not None}"
    out.mkdir()
    has_rsids = pl.scan_parquet(calls.output).select(pl.col("rsid").is_not_null().any()).collect().item()
    sample = SampleContext(
        calls.output, calls.header.genome_build, bool(has_rsids), calls.header.is_gvcf, bed
    )
    summaries = annotate_sample(sample, modules_root, MODULES, out, engine=engine)
    return summaries, out


def weights_by_rsid(out: Path, module: str) -> dict[str, tuple[float, str, str]]:
    frame = pl.read_parquet(out / f"{module}_weights.parquet")
    return {r["rsid"]: (r["weight"], r["gt"], r["evidence"]) for r in frame.iter_rows(named=True)}


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_platinum_grch38_variant_only(
    tmp_path: Path, genomes: Path, compiled_modules: Path, engine: str
) -> None:
    summaries, out = annotate(tmp_path, genomes / "PG_NA12878_hg38-chr21.vcf.gz", compiled_modules, engine)
    assert weights_by_rsid(out, "longevitymap") == {
        "rs2253363": (0.14, "1|1", "call"),
        "rs3788157": (0.175, "1|0", "call"),
        "rs414743": (-0.175, "0|1", "call"),
    }
    ledger = summaries["longevitymap"]["ledger"]
    assert ledger["called"] == 3 and ledger["inferred_hom_ref"] == 0
    # rs2838809/rs2838816 are absent from a variant-only VCF: not testable, never "no variant".
    assert ledger["not_testable"] == ledger["sites"] - 3
    assert ledger["not_testable_reasons"]["absent"] >= 2


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_platinum_grch38_with_confident_regions(
    tmp_path: Path, genomes: Path, compiled_modules: Path, engine: str
) -> None:
    bed = genomes / "PG_Conf_hg38-chr21.bed.gz"
    summaries, out = annotate(
        tmp_path, genomes / "PG_NA12878_hg38-chr21.vcf.gz", compiled_modules, engine, bed
    )
    got = weights_by_rsid(out, "longevitymap")
    assert got["rs2838809"] == (0.35, "0/0*", "inferred_hom_ref")
    assert got["rs2838816"] == (0.35, "0/0*", "inferred_hom_ref")
    assert got["rs2253363"] == (0.14, "1|1", "call")
    assert len(got) == 5
    # rs2838810 is hom-ref too but has no ref row: inferred, yet matches nothing.
    assert summaries["longevitymap"]["ledger"]["inferred_hom_ref"] == 3


def test_engines_agree_on_real_data(tmp_path: Path, genomes: Path, compiled_modules: Path) -> None:
    bed = genomes / "PG_Conf_hg38-chr21.bed.gz"
    vcf = genomes / "PG_NA12878_hg38-chr21.vcf.gz"
    (tmp_path / "p").mkdir()
    (tmp_path / "d").mkdir()
    polars_summaries, polars_out = annotate(tmp_path / "p", vcf, compiled_modules, "polars", bed)
    duck_summaries, duck_out = annotate(tmp_path / "d", vcf, compiled_modules, "duckdb", bed)
    assert polars_summaries == duck_summaries
    for module in MODULES:
        a = pl.read_parquet(polars_out / f"{module}_weights.parquet")
        b = pl.read_parquet(duck_out / f"{module}_weights.parquet")
        assert a.equals(b), module


def test_grch37_without_a_chain_is_never_matched_by_position(
    tmp_path: Path, genomes: Path, compiled_modules: Path
) -> None:
    # No chain in the sample context: GRCh38 positions must not be used on a GRCh37 file (see test_grch37.py).
    summaries, _ = annotate(tmp_path, genomes / "PG_NA12878_chr21.vcf.gz", compiled_modules, "polars")
    for module in MODULES:
        summary = summaries[module]
        assert summary["matched"] == 0
        assert summary["status"] == "skipped"
        assert "GRCh37" in summary["reason"]
        assert summary["ledger"]["called"] == 0
    reasons = summaries["longevitymap"]["ledger"]["not_testable_reasons"]
    assert reasons["no_liftover_chain"] > 500


def test_deepvariant_slice_hits_nothing_but_says_why(
    tmp_path: Path, genomes: Path, compiled_modules: Path
) -> None:
    summaries, _ = annotate(tmp_path, genomes / "antku_small.vcf", compiled_modules, "duckdb")
    ledger = summaries["longevitymap"]["ledger"]
    assert summaries["longevitymap"]["matched"] == 0 and ledger["called"] == 0
    # chr1 is in the file; every other chromosome is not
    assert ledger["not_testable_reasons"]["chromosome_not_in_vcf"] > 0
    assert ledger["not_testable_reasons"]["absent"] > 0


def test_bcf_gives_the_same_matches_as_vcf(tmp_path: Path, genomes: Path, compiled_modules: Path) -> None:
    _, out = annotate(tmp_path, genomes / "pg-hg38.bcf", compiled_modules, "polars")
    got = weights_by_rsid(out, "longevitymap")
    assert {"rs2253363", "rs3788157", "rs414743"} <= set(got)

"""`pipelines annotate-ensembl` on a real genome: progress, counts, outputs; bad input is one line."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from just_dna_pipelines.cli import main

pytestmark = pytest.mark.fixtures


def test_annotate_ensembl_polars(pipeline_env, genomes: Path, real_reference: Path, capsys) -> None:
    vcf = genomes / "PG_NA12878_hg38-chr21.vcf.gz"
    args = ["annotate-ensembl", "--vcf", str(vcf), "--user", "dan", "--engine", "polars"]
    assert main([*args, "--ensembl-source", str(real_reference)]) == 0
    out = capsys.readouterr().out
    assert "user_annotated_vcf ..." in out and "user_annotated_vcf done" in out
    assert "66,050 alleles of 65,370 records" in out and "rsIDs filled" in out
    folder = pipeline_env.output_dir / "users" / "dan" / "PG_NA12878_hg38-chr21" / "ensembl"
    assert f"annotated table: {folder / 'annotated.parquet'}" in out
    assert (folder / "annotated.vcf.gz").is_file()


@pytest.mark.parametrize(
    ("vcf", "extra", "message"),
    [
        ("PG_NA12878_chr21.vcf.gz", [], "error: the VCF is GRCh37 but the Ensembl reference is GRCh38"),
        ("missing.vcf", [], "error: file not found"),
        (
            "PG_NA12878_hg38-chr21.vcf.gz",
            ["--ensembl-source", "hf://bad repo"],
            "error: invalid Ensembl source",
        ),
        ("PG_NA12878_hg38-chr21.vcf.gz", ["--sample", "../x"], "error: invalid sample name"),
    ],
)
def test_annotate_ensembl_bad_input(
    pipeline_env, genomes: Path, capsys, vcf: str, extra: list[str], message: str
) -> None:
    assert main(["annotate-ensembl", "--vcf", str(genomes / vcf), "--user", "dan", *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1
    assert not (pipeline_env.output_dir / "users").exists()


def test_annotate_ensembl_offline_fails_at_once_leaving_nothing(pipeline_env, genomes: Path, capsys) -> None:
    vcf = genomes / "PG_NA12878_hg38-chr21.vcf.gz"
    started = time.perf_counter()
    assert main(["annotate-ensembl", "--vcf", str(vcf), "--user", "dan"]) == 2
    assert time.perf_counter() - started < 1.5  # before any Dagster run or VCF read
    err = capsys.readouterr().err
    assert err.startswith("error: Hugging Face") and "is not cached" in err and err.count("\n") == 1
    assert not (pipeline_env.output_dir / "users").exists()

"""Deletions a module writes dbSNP's way ("-"), found in a VCF's records: CCR5-delta32 (rs333) above all."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pysam
import pytest

from just_dna_pipelines.annotation.dbsnp_deletions import deleting_alt
from just_dna_pipelines.annotation.pipeline import SampleContext, annotate_sample
from just_dna_pipelines.io.vcf_normalize import normalize_vcf

# rs333 as the superhuman module has it (from dbSNP, via its SQLite database) ...
SITE = 46373453
DELTA32 = "ACAGTCAGTATCAATTCTGGAAGAATTTCCAG"
# ... and as Ensembl's VCF writes it (genomes/longevity_snps_1000genom.vcf): the same 32 bases deleted one
# base further on, where the sequence repeats its first base.
ENSEMBL_REF = DELTA32 + "A"


def test_ensembls_record_of_delta32_deletes_what_the_module_names() -> None:
    assert deleting_alt(SITE, ENSEMBL_REF, ["A"], SITE, DELTA32) == "A"


def test_a_left_anchored_record_of_the_same_deletion() -> None:
    assert deleting_alt(SITE - 1, "T" + DELTA32, ["T"], SITE, DELTA32) == "T"


def test_a_record_shifted_by_a_base_the_sequence_does_not_repeat_is_another_deletion() -> None:
    assert deleting_alt(SITE, DELTA32 + "G", ["A"], SITE, DELTA32) is None


def test_a_deletion_of_another_length_or_elsewhere_is_not_it() -> None:
    assert deleting_alt(SITE - 1, "T" + DELTA32[:-1], ["T"], SITE, DELTA32) is None
    assert deleting_alt(SITE + 40, "T" + DELTA32, ["T"], SITE, DELTA32) is None
    assert deleting_alt(SITE, "A", ["G"], SITE, DELTA32) is None  # a SNV at the site


def test_the_deleting_alt_of_a_multi_allelic_record_with_padded_alleles() -> None:
    # REF carries a base after the deletion for its other ALT (a SNV there); the deletion's ALT repeats it.
    assert deleting_alt(SITE - 1, "T" + DELTA32 + "C", ["G" + DELTA32 + "C", "TC"], SITE, DELTA32) == "TC"


HEADER = """##fileformat=VCFv4.2
##reference=GRCh38
##contig=<ID=3,length=198295559>
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1
"""


def _genome(folder: Path, records: list[str], indexed: bool) -> Path:
    """A GRCh38 VCF of `records` (tab-separated), bgzipped and indexed when `indexed`."""
    plain = folder / "sample.vcf"
    plain.write_text(HEADER + "".join(record + "\n" for record in records))
    if not indexed:
        return plain
    pysam.tabix_index(str(plain), preset="vcf", force=True)
    return folder / "sample.vcf.gz"


def _rs333(tmp_path: Path, records: list[str], modules: Path, engine: str, indexed: bool):
    vcf = _genome(tmp_path, records, indexed)
    sites = pl.DataFrame({"chrom": ["3"], "start": [SITE]})  # what a run reads through the index
    calls = normalize_vcf(vcf, tmp_path / "calls.parquet", sites=sites if indexed else None)
    sample = SampleContext(calls.output, "GRCh38", True, False, None)
    out = tmp_path / "out"
    out.mkdir()
    summary = annotate_sample(sample, modules, ["superhuman"], out, engine=engine)["superhuman"]
    matched = pl.read_parquet(out / "superhuman_weights.parquet").filter(pl.col("rsid") == "rs333")
    return summary, matched


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
@pytest.mark.parametrize("indexed", [False, True], ids=["read-whole", "read-through-index"])
@pytest.mark.parametrize(
    ("record", "genotype"),
    [
        (f"3\t{SITE}\trs333\t{ENSEMBL_REF}\tA\t50\tPASS\t.\tGT\t1/1", ["-", "-"]),
        (f"3\t{SITE}\t.\t{ENSEMBL_REF}\tA\t50\tPASS\t.\tGT\t0/1", ["-", DELTA32]),
        (f"3\t{SITE - 1}\t.\tT{DELTA32}\tT\t50\tPASS\t.\tGT\t1|1", ["-", "-"]),
    ],
    ids=["ensembl-hom", "ensembl-het-no-rsid", "left-anchored-hom"],
)
def test_a_carrier_of_ccr5_delta32_is_found_by_the_real_module(
    tmp_path: Path, compiled_modules: Path, engine: str, indexed: bool, record: str, genotype: list[str]
) -> None:
    summary, matched = _rs333(tmp_path, [record], compiled_modules, engine, indexed)
    assert matched["genotype"].to_list() == [genotype]
    assert matched["state"].to_list() == ["protective"]
    assert matched["conclusion"].str.starts_with("HIV resistance").to_list() == [True]
    assert summary["ledger"]["called"] == 1
    assert "ref_mismatch" not in summary["ledger"]["not_testable_reasons"]


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_another_variant_at_the_site_is_no_delta32(
    tmp_path: Path, compiled_modules: Path, engine: str
) -> None:
    other = f"3\t{SITE}\trs333\t{DELTA32}G\tA\t50\tPASS\t.\tGT\t1/1"  # 32 bases deleted, not delta32's
    summary, matched = _rs333(tmp_path, [other], compiled_modules, engine, indexed=False)
    assert matched.is_empty()
    assert summary["ledger"]["not_testable_reasons"].get("ref_mismatch") == 1  # as before: not testable

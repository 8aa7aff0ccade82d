"""Calls read as the callers wrote them, on real files of the corpus: lower-case bases, a GT naming an allele the
record lacks, decimal GQ, and gVCF blocks that read nothing. Each was found by comparing normalization with an
independent read of the corpus (pysam, plain text); each once changed what a person's report says."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from just_dna_pipelines.annotation.pipeline import SampleContext, annotate_sample
from just_dna_pipelines.annotation.regions import gvcf_reference_blocks
from just_dna_pipelines.io.vcf_normalize import normalize_vcf
from tests.io.conftest import GT_LINE, MakeVcf
from tests.io.test_vcf_gvcf import write_module


@pytest.fixture
def corpus_vcf(genomes: Path):
    """A file of the corpus by name."""
    return lambda name: genomes.parent / "corpus" / "vcf" / name


def text_records(path: Path) -> dict[tuple[str, int], list[str]]:
    """The file's records as plain text fields, by (CHROM, POS): the independent read."""
    lines = path.read_text().splitlines()
    records = [line.split("\t") for line in lines if line and not line.startswith("#")]
    return {(r[0], int(r[1])): r for r in records}


def calls_at(calls: Path, chrom: str, start: int) -> dict:
    return pl.read_parquet(calls).filter(chrom=chrom, start=start).row(0, named=True)


def test_lower_case_bases_of_a_real_samtools_vcf_read_upper_case(tmp_path: Path, corpus_vcf) -> None:
    """samtools 0.1.16 wrote `cca` -> `cCAca`; the spec makes bases case-insensitive, and the matcher compares them
    exactly (a het written in lower case was "not testable: ref_mismatch")."""
    vcf = corpus_vcf("vcfpy__tests__vcfs_from_the_wild__samtools.vcf")
    text = text_records(vcf)
    result = normalize_vcf(vcf, tmp_path / "calls.parquet")
    for position in (10363194, 38304491):
        fields = text[("chr1", position)]
        assert fields[3].islower()  # the file's own spelling
        got = calls_at(result.output, "1", position)
        assert got["ref"] == fields[3].upper()
        assert got["alts"] == fields[4].upper().split(",")
        assert all(allele == allele.upper() for allele in got["genotype"])
    assert calls_at(result.output, "1", 10363194)["genotype"] == ["CCA", "CCACA"]


def test_a_gt_naming_an_allele_the_record_lacks_is_no_call(
    tmp_path: Path, corpus_vcf, make_vcf: MakeVcf
) -> None:
    """`0/1` with ALT `.` (snps' and htslib's test files) read as het with an allele "."; `0/2` with one ALT as
    het without a genotype. Neither is a call."""
    vcf = corpus_vcf("snps__tests__input__testvcf.vcf")
    result = normalize_vcf(vcf, tmp_path / "calls.parquet")
    for position in (114, 115):
        assert text_records(vcf)[("1", position)][4] == "."
        got = calls_at(result.output, "1", position)
        assert (got["genotype"], got["zygosity"]) == (None, "no_call")
    # a plain ALT-less record stays the reference call it is
    inline = make_vcf(
        ["S"], ["1 100 . A . . PASS . GT 0/0", "1 200 . C T . PASS . GT 0/2", "1 300 . G T . PASS . GT 0/1"]
    )
    rows = {
        r["start"]: r
        for r in pl.read_parquet(normalize_vcf(inline, tmp_path / "inline.parquet").output).to_dicts()
    }
    assert (rows[100]["genotype"], rows[100]["zygosity"]) == (["A", "A"], "hom_ref")
    assert (rows[200]["genotype"], rows[200]["zygosity"]) == (None, "no_call")
    assert (rows[300]["genotype"], rows[300]["zygosity"]) == (["G", "T"], "het")


def test_a_decimal_gq_is_read(tmp_path: Path, corpus_vcf) -> None:
    """GATK's early files declare GQ Float (`56.26`): it was read as no GQ at all."""
    vcf = corpus_vcf("vcfpy__tests__vcfs_from_the_wild__gatk.vcf")
    fields = text_records(vcf)[("chr22", 42526567)]
    result = normalize_vcf(vcf, tmp_path / "calls.parquet")
    column = result.header.samples.index(result.sample_column)
    written = float(fields[9 + column].split(":")[fields[8].split(":").index("GQ")])
    assert written != int(written)
    assert calls_at(result.output, "22", 42526567)["gq"] == int(written)


def test_a_real_deepvariant_block_below_gq_20_proves_nothing(tmp_path: Path, corpus_vcf) -> None:
    """DeepVariant's golden gVCF: the one-base block at 10002482 has GQ 18; its neighbours 27 and 50."""
    vcf = corpus_vcf("deepvariant__deepvariant__testdata__golden.postprocess_gvcf_output.head.g.vcf")
    text = text_records(vcf)
    assert text[("chr20", 10002482)][9].split(":")[:2] == ["0/0", "18"]
    result = normalize_vcf(vcf, tmp_path / "calls.parquet")
    blocks = pl.read_parquet(result.output).filter("ref_block")
    # a block's depth is its MIN_DP (DeepVariant writes no DP there)
    assert blocks.filter(start=10000000)["dp"].to_list() == [int(text[("chr20", 10000000)][9].split(":")[2])]
    intervals = gvcf_reference_blocks(pl.scan_parquet(result.output))

    def covered(position: int) -> bool:
        return intervals.filter((pl.col("first") <= position) & (pl.col("last") >= position)).height > 0

    assert not covered(10002482)
    assert covered(10002483) and covered(10002481) and covered(10000050)


ZERO_COVERAGE = {  # how the callers write a stretch where no read aligned
    "deepvariant": ("GT:GQ:MIN_DP:PL", "0/0:1:0:0,3,29"),
    "gatk": ("GT:DP:GQ:MIN_DP:PL", "0/0:0:0:0:0,0,0"),
}
BLOCK_META = (
    GT_LINE
    + '##INFO=<ID=END,Number=1,Type=Integer,Description="End">\n'
    + '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="GQ">\n'
    + '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="DP">\n'
    + '##FORMAT=<ID=MIN_DP,Number=1,Type=Integer,Description="MIN_DP">\n'
    + '##FORMAT=<ID=PL,Number=G,Type=Integer,Description="PL">\n'
)


@pytest.mark.parametrize("caller", sorted(ZERO_COVERAGE))
@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_a_block_that_read_nothing_does_not_tell_a_normal_genotype(
    tmp_path: Path, make_vcf: MakeVcf, caller: str, engine: str
) -> None:
    """A zero-coverage 0/0 block over a module site made it "inferred hom-ref" (a person read "normal" where
    nothing was read); a confident block beside it still proves its sites."""
    form, zero = ZERO_COVERAGE[caller]
    good = ":".join(
        {"GT": "0/0", "GQ": "50", "DP": "30", "MIN_DP": "28", "PL": "0,90,900"}[k] for k in form.split(":")
    )
    vcf = make_vcf(
        ["S"],
        [
            f"chr1 1 . N <NON_REF> . . END=150 {form} {good}",
            f"chr1 151 . N <NON_REF> . . END=250 {form} {zero}",
            f"chr1 251 . N <NON_REF> . . END=450 {form} {good}",
        ],
        meta=BLOCK_META,
        name="blocks.g.vcf",
    )
    result = normalize_vcf(vcf, tmp_path / "calls.parquet")
    out = tmp_path / "out"
    out.mkdir()
    sample = SampleContext(result.output, "GRCh38", has_rsids=False, is_gvcf=result.is_gvcf)
    summary = annotate_sample(sample, write_module(tmp_path / "modules"), ["demo"], out, engine=engine)[
        "demo"
    ]
    matched = pl.read_parquet(out / "demo_weights.parquet")
    # rs1 (100, its alternative genotype) and rs3/rs4 (300, 400) lie in good blocks; rs2 (200) in the one that read
    # nothing, so it stays untested instead of matching its reference genotype's row
    evidence = {r["rsid"]: r["evidence"] for r in matched.iter_rows(named=True)}
    assert evidence == {"rs3": "inferred_hom_ref", "rs4": "inferred_hom_ref"}
    ledger = summary["ledger"]
    assert (ledger["inferred_hom_ref"], ledger["not_testable_reasons"]) == (3, {"absent": 1})

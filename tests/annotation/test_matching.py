"""Genotype-aware matching rules, checked on both engines with tiny inline data."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from just_dna_pipelines.annotation.pipeline import SampleContext, annotate_sample
from just_dna_pipelines.io.vcf_filters import VcfFilters

from .conftest import HEADER

ROWS = [
    # rs1 at 1:100 G>A: hom-alt call expected
    {"rsid": "rs1", "chrom": "1", "start": 100, "ref": "G", "genotype": ["A", "A"], "weight": 0.5},
    {"rsid": "rs1", "chrom": "1", "start": 100, "ref": "G", "genotype": ["A", "G"], "weight": 0.2},
    # rs2 at 1:200 C>T: explicit 0/0 call is a call
    {"rsid": "rs2", "chrom": "1", "start": 200, "ref": "C", "genotype": ["C", "C"], "weight": -0.3},
    # rs3 at 1:300: no-call ./.
    {"rsid": "rs3", "chrom": "1", "start": 300, "ref": "T", "genotype": ["T", "T"], "weight": 0.1},
    # rs4 at 1:400 absent from the VCF (hom-ref only if reference coverage is proven)
    {"rsid": "rs4", "chrom": "1", "start": 400, "ref": "A", "genotype": ["A", "A"], "weight": 0.35},
    # rs5 at 1:500: the VCF has a different REF there (ref check)
    {"rsid": "rs5", "chrom": "1", "start": 500, "ref": "G", "genotype": ["G", "T"], "weight": 0.4},
    # rs6 only by rsid
    {"rsid": "rs6", "genotype": ["C", "T"], "weight": -0.2},
    # rs7 on chrX, hemizygous call
    {"rsid": "rs7", "chrom": "X", "start": 700, "ref": "A", "genotype": ["G", "G"], "weight": 0.25},
]

RECORDS = [
    "chr1 100 . G A 50 PASS . GT:DP 1|1:30",
    "chr1 200 . C T 50 PASS . GT:DP 0/0:30",
    "chr1 300 . T C 50 PASS . GT:DP ./.:0",
    "chr1 500 . GA G 50 PASS . GT:DP 0/1:30",
    "chr1 600 rs6 C T 50 PASS . GT:DP 0/1:30",
    "chrX 700 . A G 50 PASS . GT:DP 1:30",
]


def run(tmp_path: Path, normalize, engine: str, *, records=RECORDS, bed: Path | None = None, **kw):
    result = normalize(records, **kw)
    root = normalize.write_module(tmp_path / "modules", "demo", ROWS)
    out = tmp_path / f"out-{engine}"
    out.mkdir()
    sample = SampleContext(
        result.output, result.header.genome_build, has_rsids=True, is_gvcf=False, confident_regions=bed
    )
    summaries = annotate_sample(sample, root, ["demo"], out, engine=engine)
    return summaries["demo"], pl.read_parquet(out / "demo_weights.parquet")


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_genotype_rules(tmp_path: Path, normalize, engine: str) -> None:
    summary, matched = run(tmp_path, normalize, engine)
    got = {(r["rsid"], r["weight"]) for r in matched.iter_rows(named=True)}
    assert got == {("rs1", 0.5), ("rs2", -0.3), ("rs6", -0.2), ("rs7", 0.25)}
    ledger = summary["ledger"]
    assert ledger["sites"] == 7
    assert ledger["called"] == 4
    assert ledger["no_call"] == 1
    assert ledger["inferred_hom_ref"] == 0
    assert ledger["not_testable"] == 2
    assert ledger["not_testable_reasons"] == {"absent": 1, "ref_mismatch": 1}
    rs2 = matched.filter(pl.col("rsid") == "rs2").row(0, named=True)
    assert rs2["gt"] == "0/0" and rs2["zygosity"] == "hom" and rs2["evidence"] == "call"


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_confident_regions_infer_hom_ref_only_inside(tmp_path: Path, normalize, engine: str) -> None:
    bed = tmp_path / "conf.bed"
    bed.write_text("chr1\t350\t450\nchr1\t0\t10\n")  # 0-based: covers 351..450, so 400 is inside
    summary, matched = run(tmp_path, normalize, engine, bed=bed)
    rs4 = matched.filter(pl.col("rsid") == "rs4").row(0, named=True)
    assert (rs4["weight"], rs4["gt"], rs4["evidence"]) == (0.35, "0/0*", "inferred_hom_ref")
    assert summary["ledger"]["inferred_hom_ref"] == 1
    assert summary["ledger"]["not_testable_reasons"] == {"ref_mismatch": 1}


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_bed_edge_is_half_open(tmp_path: Path, normalize, engine: str) -> None:
    bed = tmp_path / "conf.bed"
    bed.write_text("chr1\t400\t500\n")  # covers 401..500: 400 is outside
    summary, _ = run(tmp_path, normalize, engine, bed=bed)
    assert summary["ledger"]["inferred_hom_ref"] == 0


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_filtered_call_is_a_no_call(tmp_path: Path, normalize, engine: str) -> None:
    records = [r.replace("PASS", "LowQual") if r.startswith("chr1 100") else r for r in RECORDS]
    summary, matched = run(tmp_path, normalize, engine, records=records)
    assert "rs1" not in matched["rsid"].to_list()
    assert summary["ledger"]["no_call_reasons"] == {"filtered": 1, "no_call": 1}


def test_engines_agree(tmp_path: Path, normalize) -> None:
    bed = tmp_path / "conf.bed"
    bed.write_text("chr1\t350\t450\n")
    a_summary, a = run(tmp_path, normalize, "polars", bed=bed)
    b_summary, b = run(tmp_path, normalize, "duckdb", bed=bed)
    assert a_summary == b_summary
    assert a.equals(b)


GVCF_HEADER = (
    "##fileformat=VCFv4.2\n##reference=GRCh38\n##contig=<ID=chr1,length=248956422>\n"
    '##ALT=<ID=NON_REF,Description="Any other allele">\n##GVCFBlock0-10=minGQ=0(inclusive),maxGQ=10(exclusive)\n'
    '##INFO=<ID=END,Number=1,Type=Integer,Description="End">\n'
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
)


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_gvcf_reference_blocks_prove_hom_ref(tmp_path: Path, normalize, engine: str) -> None:
    records = [
        "chr1 100 . G A,<NON_REF> 50 PASS . GT:DP 1/1:30",
        "chr1 101 . C <NON_REF> . PASS END=299 GT:DP 0/0:25",
        "chr1 350 . A <NON_REF> . PASS END=450 GT:DP 0/0:25",
    ]
    result = normalize(records, header=GVCF_HEADER)
    assert result.header.is_gvcf and result.ref_blocks == 2
    root = normalize.write_module(tmp_path / "modules", "demo", ROWS)
    out = tmp_path / f"out-{engine}"
    out.mkdir()
    sample = SampleContext(result.output, "GRCh38", has_rsids=False, is_gvcf=True)
    summary = annotate_sample(sample, root, ["demo"], out, engine=engine)["demo"]
    matched = pl.read_parquet(out / "demo_weights.parquet")
    got = {r["rsid"]: (r["weight"], r["evidence"]) for r in matched.iter_rows(named=True)}
    # rs1 called A/A; rs2 (200) and rs4 (400) fall in reference blocks; rs3 (300) is in no block.
    assert got == {"rs1": (0.5, "call"), "rs2": (-0.3, "inferred_hom_ref"), "rs4": (0.35, "inferred_hom_ref")}
    assert summary["ledger"]["inferred_hom_ref"] == 2


def test_rows_without_a_weight_count_by_their_state(tmp_path: Path, normalize) -> None:
    """Superhuman's rows carry no weight and are curated as protective: its matches were counted "0 protective"
    in the manifest, the command's summary and the report, beside rows that each said "protective"."""
    result = normalize(["chr1 100 . G A 50 PASS . GT:DP 1/1:30", "chr1 200 . C T 50 PASS . GT:DP 0/1:30"])
    rows = [
        {"rsid": "rs1", "chrom": "1", "start": 100, "ref": "G", "genotype": ["A", "A"], "weight": None},
        {"rsid": "rs2", "chrom": "1", "start": 200, "ref": "C", "genotype": ["C", "T"], "weight": None},
    ]
    rows[0]["state"] = "protective"
    root = normalize.write_module(tmp_path / "modules", "superhuman", rows)
    out = tmp_path / "out"
    out.mkdir()
    sample = SampleContext(result.output, "GRCh38", has_rsids=False, is_gvcf=False)
    summary = annotate_sample(sample, root, ["superhuman"], out)["superhuman"]
    assert (summary["matched"], summary["protective"], summary["neutral"], summary["risk"]) == (2, 1, 1, 0)
    assert summary["net_weight"] == 0.0


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_a_site_called_twice_differently_is_not_testable(tmp_path: Path, normalize, engine: str) -> None:
    """Two equally good records of one site with other genotypes: the file does not say which is the person's
    (the lower genotype in text order used to win: rs1 A/G, +0.2)."""
    records = [
        "chr1 100 . G A 50 PASS . GT:DP 0/1:30",
        "chr1 100 . G A 50 PASS . GT:DP 1/1:30",
        "chr1 200 . C T 50 PASS . GT:DP 0/0:30",
        "chr1 200 . C T 50 PASS . GT:DP 0/0:30",  # the same call twice: one call
    ]
    summary, matched = run(tmp_path, normalize, engine, records=records)
    assert {(r["rsid"], r["weight"]) for r in matched.iter_rows(named=True)} == {("rs2", -0.3)}
    assert summary["ledger"]["not_testable_reasons"]["conflicting_calls"] == 1
    assert summary["ledger"]["called"] == 1


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_a_multiallelic_call_split_into_one_record_per_alt_is_one_call(
    tmp_path: Path, normalize, engine: str
) -> None:
    """`bcftools norm -m-` writes G>A,C 1/1 as G>A 1/1 and G>C 0/0 (0: "not this ALT"): the site was "conflicting
    calls" (A/A against G/G) where the person is A/A; a 1/2 is written 1/0 and 0/1, which read A/G and C/G."""
    rows = [
        *ROWS,
        {"rsid": "rs8", "chrom": "1", "start": 800, "ref": "T", "genotype": ["A", "C"], "weight": 0.6},
        {"rsid": "rs8", "chrom": "1", "start": 800, "ref": "T", "genotype": ["A", "T"], "weight": 0.1},
        {"rsid": "rs9", "chrom": "1", "start": 900, "ref": "G", "genotype": ["A", "G"], "weight": 0.7},
    ]
    records = [
        "chr1 100 . G A 50 PASS . GT:DP 1|1:30",
        "chr1 100 . G C 50 PASS . GT:DP 0|0:30",
        "chr1 800 . T A 50 PASS . GT:DP 1/0:30",
        "chr1 800 . T C 50 PASS . GT:DP 0/1:30",
        # the same ALT twice with other genotypes stays a conflict; so do ALTs that add up to three alleles
        "chr1 200 . C T 50 PASS . GT:DP 0/1:30",
        "chr1 200 . C T 50 PASS . GT:DP 1/1:30",
        "chr1 900 . G A 50 PASS . GT:DP 0/1:30",
        "chr1 900 . G C 50 PASS . GT:DP 1/1:30",
    ]
    result = normalize(records)
    root = normalize.write_module(tmp_path / "modules", "demo", rows)
    out = tmp_path / f"out-{engine}"
    out.mkdir()
    sample = SampleContext(result.output, "GRCh38", has_rsids=False, is_gvcf=False)
    summary = annotate_sample(sample, root, ["demo"], out, engine=engine)["demo"]
    matched = pl.read_parquet(out / "demo_weights.parquet")
    got = {r["rsid"]: (r["weight"], r["gt"]) for r in matched.iter_rows(named=True)}
    assert got == {"rs1": (0.5, "1|1,0|0"), "rs8": (0.6, "1/0,0/1")}
    assert summary["ledger"]["not_testable_reasons"]["conflicting_calls"] == 2  # rs2, rs9


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_a_genotype_filtered_by_its_own_ft_is_a_no_call(tmp_path: Path, normalize, engine: str) -> None:
    """FORMAT/FT filters one person's genotype as FILTER does the record's: `1|1:LowGQ` was used as a call."""
    header = HEADER_WITH_FT
    records = [
        "chr1 100 . G A 50 PASS . GT:FT:DP 1|1:LowGQ:30",
        "chr1 200 . C T 50 PASS . GT:FT:DP 0/0:PASS:30",
        "chr1 600 rs6 C T 50 PASS . GT:FT:DP 0/1:.:30",
    ]
    summary, matched = run(tmp_path, normalize, engine, records=records, header=header)
    assert {r["rsid"] for r in matched.iter_rows(named=True)} == {"rs2", "rs6"}
    assert summary["ledger"]["no_call_reasons"] == {"filtered": 1}
    (tmp_path / "any").mkdir()
    _, matched_any = run(
        tmp_path / "any", normalize, engine, records=records, header=header, filters=VcfFilters(None)
    )
    assert "rs1" in matched_any["rsid"].to_list()  # --pass-filters any: neither filter counts


HEADER_WITH_FT = HEADER.replace(
    "##FORMAT=<ID=DP", '##FORMAT=<ID=FT,Number=1,Type=String,Description="Genotype filter">\n##FORMAT=<ID=DP'
)


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_one_allele_on_a_chromosome_of_two_copies_is_not_testable(
    tmp_path: Path, normalize, engine: str
) -> None:
    """GT `1` on chr1 was read as A/A and weighted; a man's `1` on X stays a call (rs7)."""
    records = ["chr1 100 . G A 50 PASS . GT:DP 1:30", "chrX 700 . A G 50 PASS . GT:DP 1:30"]
    summary, matched = run(tmp_path, normalize, engine, records=records)
    assert {(r["rsid"], r["weight"]) for r in matched.iter_rows(named=True)} == {("rs7", 0.25)}
    assert summary["ledger"]["not_testable_reasons"]["one_copy_call"] == 1


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
@pytest.mark.parametrize(("gt", "inferred"), [("0/1", False), ("./.", False), ("0/0", True)])
def test_a_site_inside_a_deletion_is_never_inferred_hom_ref(
    tmp_path: Path, normalize, engine: str, gt: str, inferred: bool
) -> None:
    """A confident-regions BED covers rs4 (1:400), and a deletion starting at 398 removes 399-401 on one copy: the
    site was inferred A/A and weighted. A deletion called as reference (0/0) does not change the base."""
    bed = tmp_path / "conf.bed"
    bed.write_text("chr1\t350\t450\n")
    records = [*RECORDS, f"chr1 398 . CTAG C 50 PASS . GT:DP {gt}:30"]
    summary, matched = run(tmp_path, normalize, engine, records=records, bed=bed)
    assert ("rs4" in matched["rsid"].to_list()) is inferred
    reasons = summary["ledger"]["not_testable_reasons"]
    assert reasons.get("within_a_variant", 0) == (0 if inferred else 1)


def test_a_confident_regions_bed_is_read_within_bounds(tmp_path: Path) -> None:
    """A small gzip of one huge line was read whole (a 300 MB line took 1.6 GB) before it was refused."""
    import gzip

    from just_dna_pipelines.annotation.regions import BED_LIMITS, read_bed_intervals
    from just_dna_pipelines.errors import PipelineError

    bed = tmp_path / "huge-line.bed.gz"
    bed.write_bytes(gzip.compress(b"chr1\t0\t" + b"1" * (BED_LIMITS.max_line_bytes + 10) + b"\n"))
    with pytest.raises(PipelineError, match="refused as a BED file"):
        read_bed_intervals(bed)
    fine = tmp_path / "fine.bed"
    fine.write_text("chr1\t350\t450\nchr1\t440\t500\n")
    assert read_bed_intervals(fine).rows() == [("1", 351, 500)]


def test_a_confident_regions_file_name_is_never_a_pattern(tmp_path: Path) -> None:
    """Polars took the path for a glob: "conf[1].bed" could not be read at all, "conf*.bed" read every conf...bed
    beside it as confident regions."""
    from just_dna_pipelines.annotation.regions import read_bed_intervals

    (tmp_path / "conf_other.bed").write_text("chr2\t0\t1000\n")
    for name in ("conf[1].bed", "conf*.bed"):
        bed = tmp_path / name
        bed.write_text("chr1\t350\t450\n")
        assert read_bed_intervals(bed).rows() == [("1", 351, 450)], name


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_a_call_naming_an_allele_it_does_not_spell_out_is_not_testable(
    tmp_path: Path, normalize, engine: str
) -> None:
    """A gVCF's `G A,<*> 1/2` (the second allele unobserved) was read as A/<*>, a tested site that matched nothing;
    so were a spanning deletion's `*` and a symbolic SV allele. A `<NON_REF>` listed but not called stays a call."""
    records = [
        "chr1 100 . G A,<*> 50 PASS . GT:DP 1/2:30",
        "chr1 200 . C T,* 50 PASS . GT:DP 1/2:30",
        "chr1 500 . G <DEL> 50 PASS . GT:DP 0/1:30",
        "chr1 600 rs6 C T,<NON_REF> 50 PASS . GT:DP 0/1:30",
    ]
    summary, matched = run(tmp_path, normalize, engine, records=records)
    assert {(r["rsid"], r["weight"]) for r in matched.iter_rows(named=True)} == {("rs6", -0.2)}
    assert summary["ledger"]["not_testable_reasons"]["unresolved_allele"] == 3  # rs1, rs2, rs5
    assert summary["ledger"]["called"] == 1

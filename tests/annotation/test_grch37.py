"""GRCh37 and unknown-build VCFs on real data: the same person's GRCh37 and GRCh38 files must agree.

PG_NA12878_chr21 (GRCh37) ships a .tbi without count metadata, so it is read in full (never refused for its
index); one test re-indexes a copy to prove the read through the index gives the same matches.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import polars as pl
import pysam
import pytest

from .conftest import annotate_input, write_vcf

MODULES = ["longevitymap", "lipidmetabolism", "vo2max", "superhuman", "coronary"]
GRCH37 = "PG_NA12878_chr21.vcf.gz"
GRCH38 = "PG_NA12878_hg38-chr21.vcf.gz"


@pytest.fixture(scope="module")
def grch38_matches(tmp_path_factory: pytest.TempPathFactory, genomes: Path, compiled_modules: Path):
    _, summaries, matches = annotate_input(
        tmp_path_factory.mktemp("grch38"), genomes / GRCH38, compiled_modules, read_sites=True
    )
    return summaries, matches


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_grch37_matches_equal_the_same_persons_grch38_matches(
    tmp_path: Path, genomes: Path, compiled_modules: Path, with_chain: Path, grch38_matches, engine: str
) -> None:
    facts, summaries, matches = annotate_input(tmp_path, genomes / GRCH37, compiled_modules, engine=engine)
    expected_summaries, expected = grch38_matches
    assert matches == expected  # every match of one is a match of the other: same rsid, genotype, weight
    assert expected["longevitymap"] == {
        ("rs2253363", "A/A", 0.14),
        ("rs3788157", "C/T", 0.175),
        ("rs414743", "A/G", -0.175),
    }
    assert facts["genome_build"] == "GRCh37" and facts["build"]["source"] == "header+data"
    assert facts["liftover"]["status"] == "lifted"
    assert facts["liftover"]["file_name"] == "hg38ToHg19.over.chain.gz"
    for module in MODULES:
        assert summaries[module]["ledger"]["called"] == expected_summaries[module]["ledger"]["called"]
    # longevitymap's rs9876781 (chr3) has no GRCh37 position: said so, not "absent".
    reasons = summaries["longevitymap"]["ledger"]["not_testable_reasons"]
    assert reasons["no_unique_grch37_position"] == 1


def test_grch37_read_through_a_fresh_index_equals_the_full_read(
    tmp_path: Path, genomes: Path, compiled_modules: Path, with_chain: Path, grch38_matches
) -> None:
    copy = tmp_path / GRCH37
    shutil.copy(genomes / GRCH37, copy)
    pysam.tabix_index(str(copy), preset="vcf", force=True, keep_original=True)
    facts, _, matches = annotate_input(tmp_path / "out", copy, compiled_modules, read_sites=True)
    assert facts["read_mode"] == "module_sites"  # only the lifted module sites were read
    assert matches == grch38_matches[1]


def test_without_a_chain_grch37_falls_back_to_rsids_and_says_so(
    tmp_path: Path, genomes: Path, compiled_modules: Path, without_chain: None
) -> None:
    facts, summaries, matches = annotate_input(tmp_path, genomes / GRCH37, compiled_modules)
    assert facts["liftover"]["status"] == "unavailable"
    note = [w for w in facts["warnings"] if "liftover chain" in w]
    assert len(note) == 1 and "\n" not in note[0] and "only rsIDs are matched" in note[0]
    assert all(not found for found in matches.values())  # this file has no rsIDs: nothing is matched
    ledger = summaries["longevitymap"]["ledger"]
    assert ledger["called"] == 0
    assert (
        ledger["not_testable_reasons"]["no_liftover_chain"] == 511
    )  # every longevitymap site with a position
    assert summaries["longevitymap"]["status"] == "skipped"
    assert "no rsIDs" in summaries["longevitymap"]["reason"]


def _strip_build(source: Path, target: Path) -> Path:
    """A copy of a VCF without the header lines that tell its build (contig lengths, ##reference)."""
    with gzip.open(source, "rt") as src, gzip.open(target, "wt") as out:
        for line in src:
            if not line.startswith(("##contig", "##reference")):
                out.write(line)
    return target


@pytest.mark.parametrize(("name", "build"), [(GRCH37, "GRCh37"), (GRCH38, "GRCh38")])
def test_a_vcf_without_build_in_its_header_gets_it_from_its_data(
    tmp_path: Path,
    genomes: Path,
    compiled_modules: Path,
    with_chain: Path,
    grch38_matches,
    name: str,
    build: str,
) -> None:
    bare = _strip_build(genomes / name, tmp_path / "bare.vcf.gz")
    facts, _, matches = annotate_input(tmp_path / "out", bare, compiled_modules)
    assert facts["genome_build"] == build
    assert facts["build"]["source"] == "data"
    assert facts["build"]["evidence"][build]["positions_with_ref"] >= 3
    assert matches == grch38_matches[1]


def _with_build_lines_of(source: Path, other: Path, target: Path) -> Path:
    """A bgzipped, indexed copy of `source` whose header states `other`'s build (its contig and ##reference
    lines): what a file lifted to another build keeps when the tool leaves the header as it was."""
    with gzip.open(other, "rt") as handle:
        build_lines = [line for line in handle if line.startswith(("##contig", "##reference"))]
    plain = target.with_suffix("")
    with gzip.open(source, "rt") as src, plain.open("w") as out:
        for line in src:
            if line.startswith("#CHROM"):
                out.writelines(build_lines)
            if not line.startswith(("##contig", "##reference")):
                out.write(line)
    pysam.tabix_index(str(plain), preset="vcf", force=True)
    return target


@pytest.mark.parametrize("read_sites", [False, True], ids=["whole", "through-index"])
@pytest.mark.parametrize(
    ("data", "header", "build"), [(GRCH38, GRCH37, "GRCh38"), (GRCH37, GRCH38, "GRCh37")]
)
def test_a_header_naming_the_wrong_build_is_overruled_by_the_data(
    tmp_path: Path,
    genomes: Path,
    compiled_modules: Path,
    with_chain: Path,
    grch38_matches,
    data: str,
    header: str,
    build: str,
    read_sites: bool,
) -> None:
    mislabelled = _with_build_lines_of(genomes / data, genomes / header, tmp_path / "mislabelled.vcf.gz")
    facts, summaries, matches = annotate_input(
        tmp_path / "out", mislabelled, compiled_modules, read_sites=read_sites
    )
    assert facts["read_mode"] == ("module_sites" if read_sites else "full")
    assert facts["genome_build"] == build and facts["build"]["source"] == "data"
    stated = "GRCh37" if build == "GRCh38" else "GRCh38"
    warning = [
        w
        for w in facts["warnings"]
        if w.startswith(f"the file says {stated} but its data agree with {build}")
    ]
    assert len(warning) == 1, facts["warnings"]
    assert matches == grch38_matches[1]  # the person's own calls, as from the correctly labelled file
    assert (
        summaries["longevitymap"]["ledger"]["called"] == grch38_matches[0]["longevitymap"]["ledger"]["called"]
    )


def test_a_header_the_data_confirm_says_so(
    tmp_path: Path, genomes: Path, compiled_modules: Path, with_chain: Path
) -> None:
    facts, _, _ = annotate_input(tmp_path, genomes / GRCH38, compiled_modules, read_sites=True)
    assert facts["genome_build"] == "GRCh38" and facts["build"]["source"] == "header+data"
    assert facts["build"]["evidence"]["GRCh38"]["positions_with_ref"] >= 3
    assert "GRCh37" not in facts["build"]["evidence"]  # confirmed without loading the chain


def test_an_unknown_build_is_never_matched_as_if_it_were_grch38(
    tmp_path: Path, compiled_modules: Path, with_chain: Path
) -> None:
    header = (
        "##fileformat=VCFv4.2\n"
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
    )
    # rs2253363's GRCh38 position and alleles, homozygous ALT: a match if the file were taken as GRCh38.
    vcf = write_vcf(tmp_path / "nobuild.vcf", ["chr21 14945905 . G A 50 PASS . GT 1/1"], header)
    facts, summaries, matches = annotate_input(tmp_path / "out", vcf, compiled_modules)
    assert facts["genome_build"] == "unknown" and facts["build"]["source"] == "none"
    assert any("only rsIDs are matched" in w for w in facts["warnings"])
    assert matches["longevitymap"] == set()
    reasons = summaries["longevitymap"]["ledger"]["not_testable_reasons"]
    assert reasons["build_unknown"] == 511


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_grch37_results_say_where_the_persons_file_holds_each_call(
    tmp_path: Path, genomes: Path, compiled_modules: Path, with_chain: Path, engine: str
) -> None:
    annotate_input(tmp_path, genomes / GRCH37, compiled_modules, engine=engine, modules=["longevitymap"])
    rows = pl.read_parquet(tmp_path / "longevitymap_weights.parquet").to_dicts()
    assert {r["rsid"] for r in rows} == {"rs2253363", "rs3788157", "rs414743"}
    with pysam.VariantFile(str(genomes / GRCH37)) as vcf:
        for row in rows:
            # The GRCh38 position shown is not in the person's GRCh37 file; the sample position holds the call.
            assert not list(vcf.fetch(f"chr{row['chrom']}", row["start"] - 1, row["start"]))
            records = list(
                vcf.fetch(f"chr{row['sample_chrom']}", row["sample_start"] - 1, row["sample_start"])
            )
            assert [r.pos for r in records] == [row["sample_start"]]
            record = records[0]
            called = sorted(record.alleles[i] for i in record.samples[0]["GT"])
            assert (record.ref, called) == (row["ref"], row["genotype"])
    # rs2253363: GRCh38 chr21:14945905, in this GRCh37 file at chr21:16318226 (test_liftover).
    placed = {r["rsid"]: (r["sample_chrom"], r["sample_start"]) for r in rows}
    assert placed["rs2253363"] == ("21", 16_318_226)

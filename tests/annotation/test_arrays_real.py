"""DNA-test raw files written from a real genome: NA12878's GRCh37 calls as each vendor ships them.

The array holds every chr21 call of PG_NA12878_chr21 (GRCh37) at its position (module rsIDs at module sites,
vendor-style internal ids elsewhere; indels as I/D calls; filtered calls as no-calls), plus the module sites
the person is proven homozygous-reference at (absent from the call set, inside the Platinum confident
regions) as reference calls, as an array would read them. The expected matches come from the same person's
GRCh38 VCF with those confident regions.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from .conftest import annotate_input
from .vendor_files import na12878_array_rows, render, ship

VENDORS = [
    ("23andMe", "zip", "genome_Jane_Doe_v5_Full_20240106.zip"),
    ("AncestryDNA", "zip", "dna-data-2024-01-06.zip"),
    ("MyHeritage", "gzip", "MyHeritage_raw_dna_data.csv.gz"),
    ("FamilyTreeDNA", "gzip", "37_Jane_Doe_Chrom_Autoso_20240106.csv.gz"),
    ("LivingDNA", "plain", "living-dna-raw.txt"),
]


@pytest.fixture(scope="module")
def array_rows(
    tmp_path_factory: pytest.TempPathFactory, genomes: Path, compiled_modules: Path, liftover_chain: Path
):
    """Array rows from the real GRCh37 calls (see the module docstring)."""
    return na12878_array_rows(
        tmp_path_factory.mktemp("array-source"), genomes, compiled_modules, liftover_chain
    )


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory, genomes: Path, compiled_modules: Path):
    """The same person's matches from the GRCh38 VCF with its confident regions."""
    _, summaries, matches = annotate_input(
        tmp_path_factory.mktemp("grch38"),
        genomes / "PG_NA12878_hg38-chr21.vcf.gz",
        compiled_modules,
        confident_regions=genomes / "PG_Conf_hg38-chr21.bed.gz",
    )
    return summaries, matches


@pytest.mark.parametrize(("vendor", "container", "name"), VENDORS)
def test_each_vendor_file_gives_the_same_persons_grch38_matches(
    tmp_path: Path, compiled_modules: Path, with_chain: Path, array_rows, expected, vendor, container, name
) -> None:
    upload = ship(render(vendor, array_rows), tmp_path / name, container)
    facts, summaries, matches = annotate_input(tmp_path / "out", upload, compiled_modules)
    expected_summaries, expected_matches = expected
    assert matches == expected_matches
    assert len(expected_matches["longevitymap"]) == 5  # 3 variant calls + 2 proven hom-ref with a weight
    assert facts["input_kind"] == "array" and facts["vendor"] == vendor
    assert facts["records"] == len(array_rows)
    assert facts["genome_build"] == "GRCh37"
    # FamilyTreeDNA's file names no build: the data decide it.
    assert facts["build"]["source"] == ("data" if vendor == "FamilyTreeDNA" else "header+data")
    assert facts["build"]["evidence"]["GRCh37"]["rsids_at_position"] == 6
    assert facts["build"]["evidence"]["GRCh38"]["rsids_at_position"] == 0
    ledger = summaries["longevitymap"]["ledger"]
    assert (
        ledger["called"] == expected_summaries["longevitymap"]["ledger"]["called"] + 3
    )  # hom-ref read, not inferred
    assert ledger["called"] == 6 and ledger["sites"] == 523
    # An array never says "absent": the other sites were not on it, on a chromosome this chr21-only file
    # lacks, or have no GRCh37 position.
    reasons = ledger["not_testable_reasons"]
    assert set(reasons) == {"not_on_array", "chromosome_not_in_vcf", "no_unique_grch37_position"}
    assert reasons["not_on_array"] + reasons["chromosome_not_in_vcf"] == 523 - 6 - 1
    assert reasons["not_on_array"] == 12 + 2  # the rsID-only sites, and chr21 sites not in the call set


def test_both_engines_agree_on_an_array(
    tmp_path: Path, compiled_modules: Path, with_chain: Path, array_rows, expected
) -> None:
    upload = ship(render("23andMe", array_rows), tmp_path / "genome.txt", "plain")
    _, polars_summaries, polars_matches = annotate_input(
        tmp_path / "p", upload, compiled_modules, engine="polars"
    )
    _, duck_summaries, duck_matches = annotate_input(
        tmp_path / "d", upload, compiled_modules, engine="duckdb"
    )
    assert polars_summaries == duck_summaries and polars_matches == duck_matches == expected[1]


def test_a_header_that_names_the_wrong_build_loses_to_the_data(
    tmp_path: Path, compiled_modules: Path, with_chain: Path, array_rows, expected
) -> None:
    upload = ship(render("23andMe", array_rows, build="38"), tmp_path / "genome.txt", "plain")
    facts, _, matches = annotate_input(tmp_path / "out", upload, compiled_modules)
    assert facts["genome_build"] == "GRCh37" and facts["build"]["source"] == "data"
    assert any("says GRCh38 but its data agree with GRCh37 at 6 of 6" in w for w in facts["warnings"])
    assert matches == expected[1]


def test_without_a_chain_an_array_is_matched_by_rsid_only(
    tmp_path: Path, compiled_modules: Path, without_chain: None, array_rows, expected
) -> None:
    upload = ship(render("23andMe", array_rows), tmp_path / "genome.txt", "plain")
    facts, summaries, matches = annotate_input(tmp_path / "out", upload, compiled_modules)
    assert facts["liftover"]["status"] == "unavailable"
    assert matches == expected[1]  # the module rsIDs carry the array all the way here
    assert summaries["longevitymap"]["ledger"]["called"] == 6


def positions_in_file(text: str) -> dict[str, tuple[str, int]]:
    """Each rsID's chromosome and position as a 23andMe file lists them, read as plain text."""
    listed = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            rsid, chrom, position, _ = line.split("\t")
            listed[rsid] = (chrom, int(position))
    return listed


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_an_arrays_results_give_each_call_where_the_file_lists_its_rsid(
    tmp_path: Path, compiled_modules: Path, with_chain: Path, array_rows, engine: str
) -> None:
    upload = ship(render("23andMe", array_rows), tmp_path / "genome.txt", "plain")
    annotate_input(tmp_path / "out", upload, compiled_modules, engine=engine, modules=["longevitymap"])
    listed = positions_in_file(upload.read_text())
    rows = pl.read_parquet(tmp_path / "out" / "longevitymap_weights.parquet").to_dicts()
    assert len(rows) == 5 and "rs2253363" in {r["rsid"] for r in rows}
    for row in rows:
        assert (row["sample_chrom"], row["sample_start"]) == listed[row["rsid"]]
        assert row["sample_start"] != row["start"]  # the file's GRCh37 place, not the module's GRCh38 one

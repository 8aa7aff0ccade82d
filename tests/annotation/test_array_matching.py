"""Matching array calls (no REF) against modules: alleles, strand, indels, haploid calls, rsIDs, absence."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from .conftest import annotate_input, write_module

HEADER = (
    "# 23andMe\n# We are using reference human assembly build 38\n# rsid\tchromosome\tposition\tgenotype\n"
)


def module_rows() -> list[dict]:
    """A module with positioned A/G sites, a palindrome-free C/T site, an X site and an rsID-only site."""
    rows = []
    for rsid, chrom, start, ref, alt in [
        ("rs100", "1", 1000, "A", "G"),
        ("rs101", "1", 2000, "A", "G"),
        ("rs102", "1", 3000, "C", "T"),
        ("rs103", "1", 4000, "A", "G"),
        ("rs104", "1", 5000, "A", "G"),
        ("rs105", "X", 6000, "A", "G"),
        ("rs106", "1", 7000, "A", "G"),
    ]:
        for genotype, weight in (([ref, ref], 0.0), ([ref, alt], 0.5), ([alt, alt], 1.0)):
            rows.append(
                {
                    "rsid": rsid,
                    "chrom": chrom,
                    "start": start,
                    "ref": ref,
                    "alts": [alt],
                    "genotype": genotype,
                    "weight": weight,
                }
            )
    rows += [
        {"rsid": "rs200", "genotype": ["C", "C"], "weight": -1.0, "alts": None},
        {"rsid": "rs200", "genotype": ["C", "T"], "weight": -0.5, "alts": None},
    ]
    return rows


def tiny_module_and_array(tmp_path: Path, rows: str) -> tuple[Path, Path]:
    """The module of `module_rows` and a 23andMe-style file of `rows` (after its header)."""
    array = tmp_path / "genome.txt"
    array.write_text(HEADER + rows)
    return write_module(tmp_path / "modules", "tiny", module_rows()), array


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_array_calls_against_module_alleles(tmp_path: Path, without_chain: None, engine: str) -> None:
    modules, array = tiny_module_and_array(
        tmp_path,
        "rs100\t1\t1000\tGA\n"  # a call: A/G
        + "rs101\t1\t2000\tCT\n"  # alleles not among A/G: the other strand?
        + "rs102\t1\t3000\tDI\n"  # an indel call at a SNP site
        + "rs103\t1\t4000\t--\n"  # no call
        + "i5000\t1\t5000\tGG\n"  # vendor id, found by position
        + "rs105\tX\t6000\tG\n"  # haploid X call: counts as G/G
        + "rs200\t7\t123\tTC\n",  # the module knows rs200 by rsID only
        # rs106 is not on this array
    )
    facts, summaries, matches = annotate_input(
        tmp_path / "out", array, modules, engine=engine, modules=["tiny"]
    )
    assert facts["genome_build"] == "GRCh38" and facts["input_kind"] == "array"
    assert matches["tiny"] == {
        ("rs100", "A/G", 0.5),
        ("rs104", "G/G", 1.0),
        ("rs105", "G/G", 1.0),
        ("rs200", "C/T", -0.5),
    }
    ledger = summaries["tiny"]["ledger"]
    assert (ledger["sites"], ledger["called"], ledger["no_call"]) == (8, 4, 1)
    assert ledger["not_testable_reasons"] == {"allele_mismatch": 1, "indel_call": 1, "not_on_array": 1}


def test_a_strand_flipped_array_is_not_testable_rather_than_wrong(
    tmp_path: Path, without_chain: None
) -> None:
    # Complements of A/G and C/T calls, as a minus-strand report would give them.
    modules, array = tiny_module_and_array(
        tmp_path, "rs100\t1\t1000\tTC\nrs101\t1\t2000\tTT\nrs102\t1\t3000\tGA\n"
    )
    _, summaries, matches = annotate_input(tmp_path / "out", array, modules, modules=["tiny"])
    assert matches["tiny"] == set()
    assert summaries["tiny"]["ledger"]["not_testable_reasons"]["allele_mismatch"] == 3


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_an_rsid_listed_twice_with_other_calls_is_not_testable(
    tmp_path: Path, without_chain: None, engine: str
) -> None:
    """A DNA-test file giving one SNP two different calls does not say which is the person's."""
    modules, array = tiny_module_and_array(
        tmp_path,
        "rs100\t1\t1000\tAG\n"
        + "rs100\t1\t1000\tGG\n"  # the other call of the same SNP
        + "rs101\t1\t2000\tAG\n"
        + "rs101\t1\t2000\t--\n"  # a no-call beside a call: the call stands
        + "rs104\t1\t5000\tGG\n"
        + "rs104\t1\t5000\tGG\n",  # the same call twice: one call
    )
    _, summaries, matches = annotate_input(tmp_path / "out", array, modules, engine=engine, modules=["tiny"])
    assert matches["tiny"] == {("rs101", "A/G", 0.5), ("rs104", "G/G", 1.0)}
    assert summaries["tiny"]["ledger"]["not_testable_reasons"]["conflicting_calls"] == 1


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_results_give_each_call_where_the_file_lists_it(
    tmp_path: Path, without_chain: None, engine: str
) -> None:
    """`sample_chrom`/`sample_start`: the position of the record the genotype was read from."""
    modules, array = tiny_module_and_array(
        tmp_path,
        "rs100\t1\t1000\tAG\n"  # at the module's position
        + "rs103\t1\t4200\tGG\n"
        + "rs103\t1\t4100\tGG\n"  # the same call at two other positions: the first position, in both engines
        + "rs105\tX\t6100\tG\n"  # listed elsewhere than the module's X:6000, found by its rsID
        + "rs200\t7\t123\tTC\n",  # the module knows rs200 by rsID only
    )
    annotate_input(tmp_path / "out", array, modules, engine=engine, modules=["tiny"])
    rows = pl.read_parquet(tmp_path / "out" / "tiny_weights.parquet").sort("rsid")
    assert rows.select("rsid", "chrom", "start", "sample_chrom", "sample_start").rows() == [
        ("rs100", "1", 1000, "1", 1000),
        ("rs103", "1", 4000, "1", 4100),
        ("rs105", "X", 6000, "X", 6100),
        ("rs200", None, None, "7", 123),
    ]

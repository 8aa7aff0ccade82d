"""Genotype rules: LongevityMap's (allele, state, zygosity) rows and spelled-out genotypes, on tiny inline data."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from just_dna_pipelines.errors import ModuleSourceError
from just_dna_pipelines.modules.compile_sqlite import compile_sqlite_modules
from just_dna_pipelines.modules.genotypes import (
    Locus,
    genotype_from_letters,
    longevitymap_genotype,
    off_locus_alleles,
    state_from_weight,
)
from just_dna_pipelines.modules.registry import load_module_tables
from just_dna_pipelines.modules.schema import WEIGHTS_SCHEMA

SNV = Locus("21", 100, "G", ("A",))
MULTI = Locus("21", 200, "C", ("G", "T"))


@pytest.mark.parametrize(
    ("allele", "state", "zygosity", "locus", "expected"),
    [
        ("A", "alt", "hom", SNV, ["A", "A"]),
        ("A", "alt", "het", SNV, ["A", "G"]),
        ("G", "ref", "hom", SNV, ["G", "G"]),
        ("G", "ref", "het", SNV, ["A", "G"]),
        ("TC", "spec", "het", SNV, ["C", "T"]),
        ("TC", "spec", "het", None, ["C", "T"]),
        ("A", "alt", "hom", None, ["A", "A"]),
        ("T", "alt", "het", MULTI, ["C", "T"]),
    ],
)
def test_longevitymap_mapping(
    allele: str, state: str, zygosity: str, locus: Locus | None, expected: list[str]
) -> None:
    assert longevitymap_genotype(allele, state, zygosity, locus).genotype == expected


@pytest.mark.parametrize(
    ("allele", "state", "zygosity", "locus", "reason"),
    [
        ("A", "alt", "het", None, "without a known locus"),
        ("C", "ref", "het", MULTI, "multi-allelic"),
        ("G", "alt", "het", SNV, "names the reference"),
        ("T", "spec", "het", SNV, "not two bases"),
        ("-", "alt", "hom", SNV, "A/C/G/T"),
    ],
)
def test_longevitymap_rows_that_cannot_map(
    allele: str, state: str, zygosity: str, locus: Locus | None, reason: str
) -> None:
    result = longevitymap_genotype(allele, state, zygosity, locus)
    assert result.genotype is None and reason in str(result.reason)


def test_helpers() -> None:
    assert genotype_from_letters("GC") == ["C", "G"]
    assert genotype_from_letters("c/g") == ["C", "G"]
    assert genotype_from_letters("-C") is None
    assert off_locus_alleles(["C", "C"], SNV) == ["C"]
    assert off_locus_alleles(["C", "C"], None) == []
    assert [state_from_weight(w) for w in (0.1, -0.1, 0.0, None)] == [
        "protective",
        "risk",
        "neutral",
        "neutral",
    ]


def _tiny_longevitymap(root: Path, make_sqlite) -> None:
    """A two-database LongevityMap folder covering each rule once, plus a curation CSV."""
    folder = root / "longevitymap"
    aw = "id INTEGER, allele TEXT, state TEXT, zygosity TEXT, weight REAL, rsid TEXT, priority TEXT, category_id INTEGER"
    make_sqlite(
        folder / "longevitymap.sqlite",
        {
            "allele_weights": (
                aw,
                [
                    (1, "A", "alt", "hom", 0.14, "rs1", "0.14", 0),  # -> A/A
                    (2, "A", "alt", "het", 0.07, "rs1", "0.14", 0),  # -> A/G
                    (3, "C", "ref", "hom", 0.35, "rs2", "0.35", 1),  # -> C/C
                    (4, "CT", "spec", "het", -0.2, "rs2", "0.35", 1),  # -> C/T
                    (5, "T", "alt", "het", 0.3, "rs3", "0.3", 1),  # no locus: spreadsheet says TC
                    (6, "C", "alt", "hom", 0.5, "rs4", "0.5", 1),  # C not at G>T: dropped
                    (7, "A", "alt", "hom", -0.4, "rs5", "0.4", 0),  # minus strand, fixed by curation
                    (8, "G", "alt", "het", 0.1, "rs6", "0.1", 0),  # no locus, no spreadsheet: dropped
                    (9, "T", "alt", "hom", 0.9, "rs2", "0.9", 1),  # weight re-signed by curation
                ],
            ),
            "categories": ("id INTEGER, name TEXT", [(0, "other"), (1, "lipids")]),
            "gene": ("id INTEGER, symbol TEXT", [(10, "GENEA")]),
            "population": ("id INTEGER, name TEXT", [(20, "Dutch")]),
            "variant": (
                "id INTEGER, study_design TEXT, conclusions TEXT, association TEXT, quickpubmed TEXT, "
                "identifier TEXT, gene_id INTEGER, population_id INTEGER",
                [
                    (1, "case-control", "no association", "non-significant", "111", "rs1", 10, 20),
                    (2, "GWAS", "allele A enriched in centenarians", "significant", "222", "rs1", 10, 20),
                    (3, "GWAS", "other", "significant", "333", "rs99", 10, 20),
                ],
            ),
        },
    )
    make_sqlite(
        folder / "longevitymap_annotator.sqlite",
        {
            "snps": (
                "id INTEGER, rsid TEXT, chrom TEXT, pos INTEGER, ref TEXT, alt TEXT",
                [
                    (1, "rs1", "chr21", 100, "G", "A"),
                    (2, "rs2", "chr21", 200, "C", "T"),
                    (3, "rs4", "chr21", 400, "G", "T"),
                    (4, "rs5", "chr21", 500, "C", "T"),
                ],
            )
        },
    )
    (folder / "longevity_map.tsv").write_text("identifier\tidentifier_alt\tgenotypes\nrs3\t\tTT; TC; CC\n")
    (folder / "gen2_curation").mkdir()
    (folder / "gen2_curation" / "longevitymap.csv").write_text(
        "rsid,genotype,field,new_value,reason\n"
        "rs5,A/A,genotype,T/T,minus strand\n"
        "rs2,T/T,weight,-0.9,sign inverted\n"
        "rs9,A/A,weight,1,no such row\n"
    )


def test_tiny_longevitymap_compile(tmp_path: Path, sqlite_maker) -> None:
    _tiny_longevitymap(tmp_path / "src", sqlite_maker)
    [built] = compile_sqlite_modules(tmp_path / "src", tmp_path / "out")
    weights, annotations, studies = load_module_tables(tmp_path / "out", "longevitymap")
    got = {(r["rsid"], "/".join(r["genotype"])): r for r in weights.iter_rows(named=True)}
    assert set(got) == {
        ("rs1", "A/A"),
        ("rs1", "A/G"),
        ("rs2", "C/C"),
        ("rs2", "C/T"),
        ("rs2", "T/T"),
        ("rs3", "C/T"),
        ("rs5", "T/T"),
    }
    assert got[("rs1", "A/G")]["weight"] == 0.07 and got[("rs1", "A/G")]["start"] == 100
    assert got[("rs1", "A/A")]["category"] == "other" and got[("rs2", "C/C")]["category"] == "lipids"
    assert got[("rs2", "T/T")]["weight"] == -0.9 and got[("rs2", "T/T")]["state"] == "risk"
    assert got[("rs2", "C/T")]["allele_state"] == "spec"
    assert got[("rs3", "C/T")]["chrom"] is None  # rsid-only row
    assert got[("rs5", "T/T")]["zygosity"] == "hom" and got[("rs5", "T/T")]["chrom"] == "21"
    assert got[("rs1", "A/A")]["conclusion"] == "allele A enriched in centenarians"
    assert got[("rs1", "A/A")]["gene"] == "GENEA"
    assert built.dropped == {
        "heterozygous row without a known locus": 1,
        "allele not observed at the GRCh38 locus": 1,
    }
    assert any("rs9 A/A" in n and "matched no row" in n for n in built.notes)
    assert dict(weights.schema) == WEIGHTS_SCHEMA or all(
        weights.schema[k] == v for k, v in WEIGHTS_SCHEMA.items()
    )
    assert sorted(studies["pmid"].to_list()) == ["111", "222"]  # rs99 is not weighted
    assert set(annotations["rsid"]) == {"rs1", "rs2", "rs3", "rs5"}


def test_genotype_table_module_uses_the_spelled_genotype(tmp_path: Path, sqlite_maker) -> None:
    weight_cols = (
        '"index" INTEGER, rsid TEXT, genotype TEXT, weight TEXT, genotype_specific_conclusion TEXT, '
        "ref_allele TEXT, alt_allele TEXT, risk_allele TEXT, allele TEXT, state TEXT, zygosity TEXT"
    )
    sqlite_maker(
        tmp_path / "src" / "vo2max" / "vo2max.sqlite",
        {
            "genotype_weights": (
                weight_cols,
                [
                    (0, "rs7", "GA", "-0,5", "Low response", "G", "A", "A", "A", "alt", "het"),
                    (1, "rs7", "GG", "0", "Normal", "G", "A", "A", "G", "ref", "hom"),
                    (2, "rs7", "-A", "0", "bad", "G", "A", "A", "G", "ref", "hom"),
                ],
            ),
            "rsid": (
                '"index" INTEGER, rsid TEXT, gene TEXT, rsid_conclusion TEXT, pmids TEXT, population TEXT, p_value TEXT',
                [(0, "rs7", "GENEV", "about rs7", "[PMID 12345678]; [PMID: 23456789];", "Finns", "0.01")],
            ),
        },
    )
    [built] = compile_sqlite_modules(tmp_path / "src", tmp_path / "out")
    weights, _, studies = load_module_tables(tmp_path / "out", "vo2max")
    assert weights["genotype"].to_list() == [["A", "G"], ["G", "G"]]
    assert weights["weight"].to_list() == [-0.5, 0.0]
    assert weights["state"].to_list() == ["risk", "neutral"]
    assert weights["chrom"].to_list() == [None, None]  # no locus known: matched by rsid
    assert studies["pmid"].to_list() == ["12345678", "23456789"] and studies["p_value"].to_list() == [
        None,
        None,
    ]
    assert built.dropped == {"no rsid or no two-base genotype": 1}


def test_unreadable_sqlite_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "src" / "coronary").mkdir(parents=True)
    (tmp_path / "src" / "coronary" / "coronary.sqlite").write_text("not a database")
    with pytest.raises(ModuleSourceError, match="cannot read table") as info:
        compile_sqlite_modules(tmp_path / "src", tmp_path / "out")
    assert "\n" not in str(info.value)
    assert not (tmp_path / "out").exists()


def test_rewrite_replaces_whole_module(tmp_path: Path, sqlite_maker) -> None:
    _tiny_longevitymap(tmp_path / "src", sqlite_maker)
    compile_sqlite_modules(tmp_path / "src", tmp_path / "out")
    compile_sqlite_modules(tmp_path / "src", tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["longevitymap"]
    assert pl.read_parquet(tmp_path / "out" / "longevitymap" / "weights.parquet").height == 7

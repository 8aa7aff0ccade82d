"""The real Gen-I SQLite modules from ../shared/fixtures/modules, compiled once per session."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from just_dna_pipelines.modules.compile_sqlite import BuiltModule
from just_dna_pipelines.modules.registry import load_module_tables
from just_dna_pipelines.modules.schema import (
    ANNOTATIONS_SCHEMA,
    KNOWN_MODULES,
    STUDIES_SCHEMA,
    WEIGHTS_SCHEMA,
)
from just_dna_pipelines.modules.writer import sha256_file

Compiled = tuple[Path, dict[str, BuiltModule]]

# Our counts (weights, annotations, studies). The published Gen-II 0.5 build has 1,039/528/671,
# 45/41/41, 39/28/19, 190/101/103 and 81/77/118; modules/README.md explains each gap.
EXPECTED_COUNTS = {
    "longevitymap": (1009, 523, 672),
    "lipidmetabolism": (45, 15, 48),
    "vo2max": (39, 13, 19),
    "superhuman": (32, 17, 17),
    "coronary": (81, 27, 118),
    "thrombophilia": (25, 9, 31),
}


def _row(weights: pl.DataFrame, rsid: str, genotype: list[str]) -> dict:
    rows = weights.filter((pl.col("rsid") == rsid) & (pl.col("genotype") == genotype)).to_dicts()
    assert len(rows) == 1, f"{rsid} {genotype}: {len(rows)} rows"
    return rows[0]


def test_every_known_module_is_built_with_expected_counts(real_modules: Compiled) -> None:
    _, built = real_modules
    assert sorted(built) == sorted([*KNOWN_MODULES, "thrombophilia"])  # six modules work offline
    for name, (w, a, s) in EXPECTED_COUNTS.items():
        assert (built[name].weights_rows, built[name].annotations_rows, built[name].studies_rows) == (
            w,
            a,
            s,
        ), name


@pytest.mark.parametrize(
    ("rsid", "chrom", "start", "ref", "genotype", "weight"),
    [
        ("rs2253363", "21", 14945905, "G", ["A", "A"], 0.14),
        ("rs3788157", "21", 45090793, "T", ["C", "T"], 0.175),
        ("rs414743", "21", 45092160, "G", ["A", "G"], -0.175),
        ("rs2838809", "21", 45201523, "C", ["C", "C"], 0.35),
        ("rs2838816", "21", 45210127, "G", ["G", "G"], 0.35),
    ],
)
def test_longevitymap_rows_checked_against_a_real_genome(
    real_modules: Compiled, rsid: str, chrom: str, start: int, ref: str, genotype: list[str], weight: float
) -> None:
    weights, _, _ = load_module_tables(real_modules[0], "longevitymap")
    row = _row(weights, rsid, genotype)
    assert (row["chrom"], row["start"], row["ref"], row["weight"]) == (chrom, start, ref, weight)
    assert row["state"] == ("protective" if weight > 0 else "risk")


def test_longevitymap_categories_positions_and_studies(real_modules: Compiled) -> None:
    out, built = real_modules
    weights, annotations, studies = load_module_tables(out, "longevitymap")
    assert built["longevitymap"].positioned_weights_rows == 987
    assert weights["category"].n_unique() == 12 and weights["category"].null_count() == 0
    assert set(annotations["category"]) == set(weights["category"])
    assert annotations["gene"].null_count() < 120  # intergenic GWAS hits name no gene
    apoe = studies.filter(pl.col("rsid") == "rs7412")
    assert (
        apoe.height > 5 and apoe["population"].null_count() == 0 and apoe["pmid"].str.contains(r"^\d+$").all()
    )
    assert _row(weights, "rs7412", ["T", "T"])["start"] == 44908822
    assert built["longevitymap"].dropped == {
        "curation: drop": 17,
        "allele not observed at the GRCh38 locus": 17,
    }


def test_curation_is_applied(real_modules: Compiled) -> None:
    out, _ = real_modules
    coronary, _, _ = load_module_tables(out, "coronary")
    assert _row(coronary, "rs1333049", ["C", "C"])["weight"] == -1.6  # sign inverted in the SQLite
    assert _row(coronary, "rs1333049", ["C", "C"])["state"] == "risk"
    lipids, _, _ = load_module_tables(out, "lipidmetabolism")
    rs328 = _row(lipids, "rs328", ["G", "G"])
    assert rs328["weight"] == 0.8 and rs328["conclusion"].startswith("You carry two copies of the LPL S447X")
    longevity, _, _ = load_module_tables(out, "longevitymap")
    assert _row(longevity, "rs1050450", ["A", "G"])["chrom"] == "3"  # strand flip to GRCh38 plus
    assert (
        longevity.filter((pl.col("rsid") == "rs660339") & (pl.col("genotype") == ["T", "T"])).height == 0
    )  # dropped
    _, _, vo2_studies = load_module_tables(out, "vo2max")
    assert "12783984" in vo2_studies["pmid"].to_list() and "2783984" not in vo2_studies["pmid"].to_list()


def test_tables_follow_the_contract(real_modules: Compiled) -> None:
    out, _ = real_modules
    for name in KNOWN_MODULES:
        folder = out / name
        for table, schema in (
            ("weights", WEIGHTS_SCHEMA),
            ("annotations", ANNOTATIONS_SCHEMA),
            ("studies", STUDIES_SCHEMA),
        ):
            on_disk = pl.read_parquet_schema(folder / f"{table}.parquet")
            assert {k: on_disk[k] for k in schema} == schema, (name, table)
        weights = pl.read_parquet(folder / "weights.parquet")
        assert all(g == sorted(g) and len(g) == 2 for g in weights["genotype"].to_list()), name
        assert weights.select(pl.struct("rsid", "genotype").is_duplicated().any()).item() is False
        assert not weights["chrom"].drop_nulls().str.starts_with("chr").any()
        positioned = weights.filter(pl.col("start").is_not_null())
        assert positioned["chrom"].null_count() == 0 and positioned["ref"].null_count() == 0
        expected_state = (
            pl.when(pl.col("weight") > 0)
            .then(pl.lit("protective"))
            .when(pl.col("weight") < 0)
            .then(pl.lit("risk"))
        )
        signed = weights.filter(pl.col("weight") != 0)
        assert (signed["state"] == signed.select(expected_state)["literal"]).all(), name


def test_module_json_records_provenance(real_modules: Compiled, module_fixtures: Path) -> None:
    meta = json.loads((real_modules[0] / "longevitymap" / "module.json").read_text())
    assert meta["name"] == "longevitymap" and meta["genome_build"] == "GRCh38" and meta["demo"] is False
    assert meta["rows"] == {"weights": 1009, "annotations": 523, "studies": 672}
    sources = {b["path"]: b["sha256"] for b in meta["built_from"]}
    assert (
        "longevitymap/longevitymap.sqlite" in sources
        and "longevitymap/gen2_curation/longevitymap.csv" in sources
    )
    db = module_fixtures / "longevitymap" / "longevitymap.sqlite"
    assert sources["longevitymap/longevitymap.sqlite"] == sha256_file(db)
    coronary = json.loads((real_modules[0] / "coronary" / "module.json").read_text())
    assert "longevitymap/longevitymap_annotator.sqlite" in {b["path"] for b in coronary["built_from"]}


def test_superhuman_is_protective_without_weights(real_modules: Compiled) -> None:
    weights, _, studies = load_module_tables(real_modules[0], "superhuman")
    assert (weights["state"] == "protective").all() and weights["weight"].null_count() == weights.height
    assert _row(weights, "rs11591147", ["G", "T"])["gene"] == "PCSK9"  # a curated addition
    assert set(studies["rsid"]) <= set(weights["rsid"]) and studies["pmid"].str.contains(r"^\d+$").all()


def test_thrombophilia_factor_v_and_prothrombin(real_modules: Compiled) -> None:
    weights, _, studies = load_module_tables(real_modules[0], "thrombophilia")
    prothrombin = _row(weights, "rs1799963", ["A", "G"])  # F2 G20210A, GRCh38 position from LongevityMap
    assert (prothrombin["chrom"], prothrombin["start"], prothrombin["ref"]) == ("11", 46739505, "G")
    assert prothrombin["weight"] < 0 and prothrombin["gene"] == "F2"
    leiden = _row(weights, "rs6025", ["C", "T"])  # factor V Leiden: no position in the sources, rsID only
    assert leiden["start"] is None and leiden["state"] == "risk" and leiden["gene"] == "F5"
    assert studies.filter(pl.col("rsid") == "rs6025").height > 0


def test_module_json_records_what_was_dropped_and_why(real_modules: Compiled) -> None:
    dropped = {
        name: json.loads((real_modules[0] / name / "module.json").read_text())["dropped"]
        for name in EXPECTED_COUNTS
    }
    assert dropped == {
        "longevitymap": {"curation: drop": 17, "allele not observed at the GRCh38 locus": 17},
        "lipidmetabolism": {},
        "vo2max": {},
        # 41 curated rsIDs name no allele (Gen-II looked them up in Ensembl); 1186 source rows are uncurated
        "superhuman": {
            "not named by the curation": 1186,
            "no allele named at a multi-allelic or unknown locus": 41,
        },
        "coronary": {},
        "thrombophilia": {"no rsid or no two-base genotype": 4},  # two rows without rsID, rs8176719 -- and -C
    }

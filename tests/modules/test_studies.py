"""The studies table: every distinct study record is kept, even several for one (rsid, PMID)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import polars as pl

from just_dna_pipelines.modules.compile_sqlite import BuiltModule, compile_sqlite_modules
from just_dna_pipelines.modules.compilers.common import studies_frame
from just_dna_pipelines.modules.registry import load_module_tables

Compiled = tuple[Path, dict[str, BuiltModule]]

# The pairs whose second LongevityMap record a "first mention wins" dedupe lost.
LONGEVITYMAP_PAIRS = [
    ("rs2075650", "22279548"),
    ("rs73598374", "21865054"),
    ("rs1333049", "24163049"),
    ("rs1043618", "17027907"),
    ("rs4980329", "23839864"),
    ("rs11555236", "23839864"),
]

# Distinct study records of some rsids, with the cells cleaned as the compiler cleans them.
_WS = "' ' || char(9, 10, 13)"
DISTINCT_RECORDS_SQL = f"""
SELECT count(*) FROM (
    SELECT DISTINCT trim(v.identifier, {_WS}), nullif(trim(v.quickpubmed, {_WS}), ''),
        nullif(trim(p.name, {_WS}), ''), nullif(trim(v.association, {_WS}), ''),
        nullif(trim(v.conclusions, {_WS}), ''), nullif(trim(v.study_design, {_WS}), '')
    FROM variant v LEFT JOIN population p ON p.id = v.population_id
    WHERE trim(v.identifier, {_WS}) IN (SELECT value FROM json_each(?))
        AND nullif(trim(v.quickpubmed, {_WS}), '') IS NOT NULL
)
"""


def _study(rsid: str, pmid: str, population: str | None, p_value: str | None = None) -> dict:
    return {"rsid": rsid, "pmid": pmid, "population": population, "p_value": p_value, "conclusion": None}


def test_distinct_records_of_one_paper_are_all_kept_in_order() -> None:
    frame = studies_frame(
        [
            _study("rs1", "111", "Spanish", "significant"),
            _study("rs1", "111", "Japanese", "significant"),
            _study("rs1", "111", "Spanish", "non-significant"),
        ]
    )
    assert frame.select("population", "p_value").rows() == [
        ("Spanish", "significant"),
        ("Japanese", "significant"),
        ("Spanish", "non-significant"),
    ]


def test_identical_records_collapse() -> None:
    rows = [_study("rs1", "111", "Italian"), _study("rs2", "111", "Italian"), _study("rs1", "111", "Italian")]
    assert studies_frame(rows).select("rsid", "pmid").rows() == [("rs1", "111"), ("rs2", "111")]


def test_rsid_table_pmids_only_fill_pairs_the_studies_table_lacks(tmp_path: Path, sqlite_maker) -> None:
    sqlite_maker(
        tmp_path / "src" / "lipidmetabolism" / "lipid_metabolism.sqlite",
        {
            "weight": (
                '"index" INTEGER, rsid TEXT, genotype TEXT, weight TEXT, genotype_specific_conclusion TEXT',
                [(0, "rs7", "GG", "0,5", "Lower LDL")],
            ),
            "rsids": (
                '"index" INTEGER, rsid TEXT, gene TEXT, pmids TEXT, population TEXT, p_value TEXT',
                [(0, "rs7", "GENEL", "PMID 12345678; PMID 23456789", "European;", None)],
            ),
            "studies": (
                '"index" INTEGER, pubmed_id INTEGER, snp TEXT, populations TEXT, p_value TEXT',
                [
                    (0, 12345678, "rs7", "2,758 Europeans", "7,00E-22"),
                    (1, 12345678, "rs7", "1,200 Finns", "3,00E-05"),
                ],
            ),
        },
    )
    compile_sqlite_modules(tmp_path / "src", tmp_path / "out")
    _, _, studies = load_module_tables(tmp_path / "out", "lipidmetabolism")
    # Both records of the studies table, then only the paper of the rsid table's list that it lacks.
    assert studies.select("pmid", "population", "p_value").rows() == [
        ("12345678", "2,758 Europeans", "7,00E-22"),
        ("12345678", "1,200 Finns", "3,00E-05"),
        ("23456789", "European;", None),
    ]


def test_longevitymap_keeps_every_study_record_of_a_paper(
    real_modules: Compiled, module_fixtures: Path
) -> None:
    weights, _, studies = load_module_tables(real_modules[0], "longevitymap")
    for rsid, pmid in LONGEVITYMAP_PAIRS:
        records = studies.filter((pl.col("rsid") == rsid) & (pl.col("pmid") == pmid))
        assert records.height == 2, (rsid, pmid, records.rows())
    pinos = studies.filter((pl.col("rsid") == "rs1333049") & (pl.col("pmid") == "24163049"))
    assert pinos["population"].to_list() == ["Spanish", "Japanese"]  # SQLite order
    terry = studies.filter((pl.col("rsid") == "rs1043618") & (pl.col("pmid") == "17027907"))
    assert terry["population"].to_list() == ["Ashkenazi Jewish", "American (Caucasian), Ashkenazi Jewish"]
    assert terry["conclusion"][1].startswith("Adjusted Hsp70 levels")
    albani = studies.filter((pl.col("rsid") == "rs4980329") & (pl.col("pmid") == "23839864"))
    assert albani["p_value"].to_list() == ["non-significant", "significant"]

    db = module_fixtures / "longevitymap" / "longevitymap.sqlite"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rsids = json.dumps(sorted(set(weights["rsid"])))
        [(distinct,)] = con.execute(DISTINCT_RECORDS_SQL, (rsids,)).fetchall()
    finally:
        con.close()
    assert studies.height == distinct
    assert not studies.is_duplicated().any()  # a record repeated word for word is kept once


def test_thrombophilia_keeps_both_records_of_the_finnish_study(real_modules: Compiled) -> None:
    _, _, studies = load_module_tables(real_modules[0], "thrombophilia")
    for rsid in ("rs1799889", "rs5918"):
        records = studies.filter((pl.col("rsid") == rsid) & (pl.col("pmid") == "9700201"))
        assert records["p_value"].to_list() == ["0,05", "0,01"], rsid

"""`pipelines list-modules` and `pipelines build-modules` through the real CLI entry point."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from just_dna_pipelines.cli import main


def test_list_modules_demo_table(isolated_settings: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list-modules", "--modules-source", "demo"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["module", "title", "version", "weights", "annotations", "studies"]
    assert any(line.startswith("longevitymap") and "Longevity map (demo data)" in line for line in lines)
    assert "5 modules from demo modules" in out


def test_list_modules_offline_default_source_is_one_line(
    isolated_settings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["list-modules"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: Hugging Face (http://127.0.0.1:9) is unreachable")


def test_list_modules_missing_folder(
    isolated_settings: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["list-modules", "--modules-source", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err


def test_build_then_list(
    tmp_path: Path, module_fixtures: Path, isolated_settings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "built"
    code = main(
        ["build-modules", "--sqlite-dir", str(module_fixtures), "--out", str(out_dir), "--module", "coronary"]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert out.splitlines()[2].split() == ["coronary", "81", "6", "27", "118", "0"]
    assert main(["list-modules", "--modules-source", str(out_dir)]) == 0
    listed = capsys.readouterr().out
    assert "Coronary artery disease" in listed and "1 modules from" in listed


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "does not exist"),
        ("empty", "no module folders found"),
        ("broken", "cannot read table"),
    ],
)
def test_build_modules_errors_are_one_line(
    tmp_path: Path, setup: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "src"
    if setup != "missing":
        src.mkdir()
    if setup == "broken":
        (src / "vo2max").mkdir()
        (src / "vo2max" / "vo2max.sqlite").write_bytes(b"garbage, not SQLite" * 100)
    assert main(["build-modules", "--sqlite-dir", str(src), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err
    assert not (tmp_path / "out").exists()


def test_build_modules_verbose_reports_drops(
    tmp_path: Path, module_fixtures: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "src"
    shutil.copytree(module_fixtures / "longevitymap", src / "longevitymap")
    assert main(["build-modules", "--sqlite-dir", str(src), "--out", str(tmp_path / "o"), "--verbose"]) == 0
    out = capsys.readouterr().out
    assert "longevitymap: dropped 17 x allele not observed at the GRCh38 locus" in out
    assert "longevitymap: dropped rs479744 C/C" in out


def test_build_modules_prints_a_curation_files_text_escaped(
    tmp_path: Path, module_fixtures: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--verbose printed a curation file's rsIDs raw: a window-title escape in one reached the terminal."""
    src = tmp_path / "src"
    shutil.copytree(module_fixtures / "longevitymap", src / "longevitymap")
    with (src / "longevitymap" / "gen2_curation" / "longevitymap.csv").open("a") as curation:
        curation.write("rs1\x1b]0;pwned\x07,A/A,weight,0.1,made up\n")
    assert main(["build-modules", "--sqlite-dir", str(src), "--out", str(tmp_path / "o"), "--verbose"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "longevitymap: curation for rs1\\x1b]0;pwned\\x07 A/A (weight) matched no row" in out


@pytest.mark.parametrize(
    ("hostile", "message"),
    [
        (  # a view in the table's place, computing rows without end (it grew until memory ran out)
            "ALTER TABLE coronary_disease RENAME TO original; CREATE VIEW coronary_disease AS "
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i AS rsid FROM n",
            "'coronary_disease' of .* is a view, not a table",
        ),
        (  # a generated column of 50 MB a cell
            "ALTER TABLE coronary_disease ADD COLUMN huge BLOB GENERATED ALWAYS AS (zeroblob(50000000)) VIRTUAL",
            "cannot read table 'coronary_disease' of .*: string or blob too big",
        ),
        (  # two million rows where real module tables have a few thousand
            "INSERT INTO coronary_disease (rsid) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "LIMIT 2000000) SELECT 'rs' || i FROM n",
            "has more than 1,000,000 rows; not a module table",
        ),
    ],
    ids=["endless-view", "huge-cells", "millions-of-rows"],
)
def test_build_modules_reads_a_hostile_database_within_bounds(
    module_fixtures: Path, tmp_path: Path, hostile: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import re
    import sqlite3

    src = tmp_path / "sqlite"
    shutil.copytree(module_fixtures / "coronary", src / "coronary")
    shutil.copytree(module_fixtures / "longevitymap", src / "longevitymap")  # the loci of the rsIDs
    with sqlite3.connect(src / "coronary" / "coronary.sqlite") as con:
        con.executescript(hostile)
    assert (
        main(
            [
                "build-modules",
                "--sqlite-dir",
                str(src),
                "--out",
                str(tmp_path / "out"),
                "--module",
                "coronary",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and re.search(message, err), err
    assert not (tmp_path / "out").exists()


def test_list_modules_prints_a_hostile_manifest_escaped(
    isolated_settings: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A module source's title and version reached the terminal raw: a clear-screen, a window-title escape and a
    newline with a made-up line of its own."""
    import json

    import polars as pl

    folder = tmp_path / "hostile" / "evil"
    folder.mkdir(parents=True)
    title = "Evil\x1b[2J\x1b]0;pwned\x07\nerror: fake line"
    (folder / "module.json").write_text(json.dumps({"title": title, "version": "1\x1b[31m"}))
    pl.DataFrame({"rsid": ["rs1"], "genotype": [["A", "G"]], "weight": [0.1]}).write_parquet(
        folder / "weights.parquet"
    )
    assert main(["list-modules", "--modules-source", str(folder.parent)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "error: fake line" not in out.splitlines()[3:]  # no line of the source's own
    row = out.splitlines()[2]
    assert row.startswith("evil    Evil\\x1b[2J\\x1b]0;pwned\\x07\\nerror: fake line  1\\x1b[31m"), row

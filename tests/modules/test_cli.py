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

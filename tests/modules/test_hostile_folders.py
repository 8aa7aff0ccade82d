"""A local module folder with hostile files: listed with a note, never a crash or a hang."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from just_dna_pipelines.modules.registry import list_modules, runnable_modules


@pytest.mark.timeout(60)
def test_a_deeply_nested_manifest_and_a_fifo_table_are_notes_not_crashes(
    tmp_path: Path, compiled_modules: Path
):
    root = tmp_path / "modules"
    root.mkdir()
    shutil.copytree(compiled_modules / "longevitymap", root / "deep")
    # Nesting 100,000 deep raised RecursionError out of every listing (the web app's module list included).
    (root / "deep" / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    shutil.copytree(compiled_modules / "vo2max", root / "fifo")
    (root / "fifo" / "weights.parquet").unlink()
    os.mkfifo(root / "fifo" / "weights.parquet")  # reading it blocked for good
    available, refused = runnable_modules(root)
    assert "deep" in available
    assert "fifo" not in available and "not a regular file" in refused["fifo"]
    assert {m.name for m in list_modules(str(root))} >= {"deep", "fifo"}


def test_a_folder_name_dagster_cannot_take_is_a_note_and_the_graph_still_loads(
    tmp_path: Path, compiled_modules: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module folder named "a b" made the code location fail to load: no run of any module could start."""
    from just_dna_pipelines.defs.jobs import sample_definitions
    from just_dna_pipelines.modules.registry import graph_module_names
    from just_dna_pipelines.settings import get_settings

    root = tmp_path / "modules"
    root.mkdir()
    for name in ("a b", "bad-name", "coronary"):
        shutil.copytree(compiled_modules / "coronary", root / name)
    available, refused = runnable_modules(root)
    assert available == ["coronary"]
    assert set(refused) == {"a b", "bad-name"} and "not a module name" in refused["a b"]
    monkeypatch.setenv("JUST_DNA_PIPELINES_MODULES_SOURCE", str(root))
    get_settings.cache_clear()
    try:
        names = graph_module_names()
        assert names == ["coronary"]
        assert sample_definitions(names).resolve_job_def("annotate_and_report_job") is not None
    finally:
        get_settings.cache_clear()


def test_a_weights_table_of_millions_of_rows_is_a_note(tmp_path: Path, compiled_modules: Path) -> None:
    """A 6.5 MB Parquet of 10 M rows was read whole into 6.1 GB."""
    import polars as pl

    from just_dna_pipelines.modules.layouts import MAX_WEIGHT_ROWS

    root = tmp_path / "modules"
    shutil.copytree(compiled_modules / "coronary", root / "huge")
    weights = pl.read_parquet(root / "huge" / "weights.parquet")
    weights.sample(MAX_WEIGHT_ROWS + 1, with_replacement=True, seed=1).write_parquet(
        root / "huge" / "weights.parquet"
    )
    available, refused = runnable_modules(root)
    assert available == [] and "1,000,001 rows" in refused["huge"]

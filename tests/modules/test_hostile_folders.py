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

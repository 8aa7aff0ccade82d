"""Folders published whole: a reader never finds a sample's results missing while a run replaces them, and two
publishers at once both succeed."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from just_dna_pipelines.io.atomic import _replace_by_two_renames, replace_dir

# Reads target/manifest.json without pause until the stop file appears; prints reads and misses.
READER = """
import sys
from pathlib import Path
manifest, stop, ready = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
reads = misses = 0
ready.touch()
while not stop.exists():
    reads += 1
    try:
        manifest.read_text()
    except FileNotFoundError:
        misses += 1
print(reads, misses)
"""

# Waits for the go file, then publishes its own staged folder in place of the target.
PUBLISHER = """
import sys, time
from pathlib import Path
from just_dna_pipelines.io.atomic import replace_dir
staged, target, go, ready = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
ready.touch()
while not go.exists():
    time.sleep(0.0005)
replace_dir(staged, target)
"""


def staged_folder(root: Path, tag: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=f".stage-{tag}-", dir=root))
    (folder / "manifest.json").write_text(tag)
    (folder / "x_weights.parquet").write_bytes(tag.encode() * 100)
    return folder


def test_a_reader_never_finds_the_results_missing_while_they_are_replaced(tmp_path: Path) -> None:
    target = tmp_path / "sample" / "modules"
    replace_dir(staged_folder(tmp_path, "first"), target)
    stop, ready = tmp_path / "stop", tmp_path / "ready"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(target / "manifest.json"), str(stop), str(ready)],
        stdout=subprocess.PIPE,
        text=True,
    )
    while not ready.exists():
        time.sleep(0.01)
    for number in range(300):
        replace_dir(staged_folder(tmp_path, f"run{number}"), target)
    stop.touch()
    reads, misses = map(int, reader.communicate(timeout=60)[0].split())
    assert reads > 1000 and misses == 0, f"{misses} of {reads} reads found the results missing"
    assert (target / "manifest.json").read_text() == "run299"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ready", "sample", "stop"]  # nothing left aside


def test_two_runs_publishing_at_once_both_succeed_and_one_wins_whole(tmp_path: Path) -> None:
    for trial in range(6):
        root = tmp_path / f"trial{trial}"
        root.mkdir()
        target, go = root / "modules", root / "go"
        replace_dir(staged_folder(root, "old"), target)
        ready = [tmp_path / f"ready-{trial}-{tag}" for tag in ("A", "B", "C")]
        publishers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    PUBLISHER,
                    str(staged_folder(root, tag)),
                    str(target),
                    str(go),
                    str(flag),
                ],
                stderr=subprocess.PIPE,
                text=True,
            )
            for tag, flag in zip(("A", "B", "C"), ready, strict=True)
        ]
        deadline = time.monotonic() + 60
        while not all(flag.exists() for flag in ready):  # every publisher waiting on the go file
            assert time.monotonic() < deadline, "the publishers did not start"
            time.sleep(0.01)
        go.touch()
        for publisher in publishers:
            assert publisher.wait(timeout=60) == 0, publisher.communicate()[1]
        winner = (target / "manifest.json").read_text()
        assert winner in ("A", "B", "C")
        assert (target / "x_weights.parquet").read_bytes() == winner.encode() * 100  # one run's folder, whole
        assert sorted(p.name for p in root.iterdir()) == ["go", "modules"]


def test_where_folders_cannot_be_swapped_the_old_one_is_moved_aside_first(tmp_path: Path) -> None:
    target = tmp_path / "modules"
    replace_dir(staged_folder(tmp_path, "old"), target)
    _replace_by_two_renames(staged_folder(tmp_path, "new"), target)
    assert (target / "manifest.json").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["modules"]


def test_a_missing_folder_to_publish_is_said_as_such(tmp_path: Path) -> None:
    target = tmp_path / "modules"
    replace_dir(staged_folder(tmp_path, "old"), target)
    with pytest.raises(FileNotFoundError, match="the folder to publish is missing"):
        replace_dir(tmp_path / "gone", target)
    assert (target / "manifest.json").read_text() == "old"

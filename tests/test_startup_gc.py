"""Start-up without the collector's full walks (issue 14's fixed cost): a real `pipelines` run in a fresh
interpreter, every full collection recorded with the number of objects it had to walk."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from just_dna_pipelines.modules.demo import ensure_demo_sample

# Runs the `pipelines` program as installed (run_program), noting each full collection's size; at exit the
# notes go to the file named first.
PROBE = """
import atexit, gc, json, sys
walks = []
gc.callbacks.append(
    lambda phase, info: walks.append(len(gc.get_objects())) if phase == "start" and info["generation"] == 2 else None
)
notes = sys.argv[1]
atexit.register(lambda: open(notes, "w").write(json.dumps({"walks": walks, "frozen": gc.get_freeze_count()})))
sys.argv = ["pipelines", *sys.argv[2:]]
from just_dna_pipelines.cli import run_program
run_program()
"""
# Before start-up was frozen, the collector walked 51,000, 111,000, 168,000 and 222,000 objects in four full
# collections of one annotate-modules run, and none of them freed anything.
MOST_WALKED = 50_000


def collections_of(tmp_path: Path, *args: str) -> dict:
    notes = tmp_path / "walks.json"
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(notes), *args], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(notes.read_text())


@pytest.mark.slow
def test_annotate_modules_never_walks_what_start_up_made(pipeline_env, tmp_path: Path) -> None:
    sample = ensure_demo_sample(tmp_path)
    notes = collections_of(
        tmp_path, "annotate-modules", "--vcf", str(sample), "--user", "gc", "--modules-source", "demo"
    )
    assert notes["frozen"] > 100_000  # Dagster, Polars and the definitions, out of the collector's sight
    assert max(notes["walks"], default=0) < MOST_WALKED, notes["walks"]
    report = pipeline_env.output_dir / "users/gc/demo_sample/reports/longevity_report.html"
    assert "longevitymap" in report.read_text()  # the run itself did everything it does


SETTLE = """
import gc
from just_dna_pipelines import startup_gc
before = gc.get_freeze_count()
startup_gc.settle()  # never paused: nothing happens
assert gc.isenabled() and gc.get_freeze_count() == before, "settle froze a collector it had not paused"
startup_gc.pause()
assert not gc.isenabled()
kept = [[i] for i in range(1000)]
startup_gc.settle()
assert gc.isenabled() and gc.get_freeze_count() >= before + 1000, gc.get_freeze_count()
"""


def test_only_a_paused_collector_is_settled() -> None:
    proc = subprocess.run([sys.executable, "-c", SETTLE], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr

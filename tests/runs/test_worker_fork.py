"""The run worker forks every run, and Polars' thread pool never works in a child forked from a process that
used it. A first start (fresh cache: the demo modules are written while the definitions load) must leave the
worker free of Polars work, or every run hangs in its first Polars query."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CHILD = """
import json, os, signal
import polars as pl
from just_dna_pipelines.runs.worker import _warm_up

_warm_up()
pid = os.fork()
if pid == 0:
    signal.alarm(20)  # a hung query ends the child instead of the test
    frame = pl.DataFrame({"a": list(range(200_000))}).lazy().filter(pl.col("a") > 5)
    os._exit(0 if frame.select(pl.len()).collect().item() == 199_994 else 3)
_, status = os.waitpid(pid, 0)
print(json.dumps({"status": status}))
"""


def test_a_run_forked_after_a_first_start_can_use_polars(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "JUST_DNA_PIPELINES_CACHE_DIR": str(tmp_path / "cache"),  # fresh: the demo modules get written
        "JUST_DNA_PIPELINES_MODULES_SOURCE": "demo",
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "HF_HUB_OFFLINE": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=240, check=True
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"status": 0}, done.stderr[-2000:]
    assert (tmp_path / "cache" / "demo-modules").is_dir()  # the first start really did the writing

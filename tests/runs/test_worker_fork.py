"""The run worker forks every run, and Polars' thread pool never works in a child forked from a process that
used it. A first start (fresh cache: the demo modules are written while the definitions load) must leave the
worker free of Polars work, or every run hangs in its first Polars query."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

CHILD = """
import json, os, signal, sys
import polars as pl
from just_dna_pipelines.runs.worker import _warm_up

_warm_up()
pid = os.fork()
if pid == 0:
    signal.alarm(20)  # a hung query ends the child instead of the test
    frame = pl.DataFrame({"a": list(range(200_000))}).lazy().filter(pl.col("a") > 5)
    counted = frame.select(pl.len()).collect().item()
    path = sys.argv[1]  # a file written and read back: Polars' Parquet reader too
    frame.sink_parquet(path)
    read = pl.scan_parquet(path).select(pl.len()).collect().item()
    os._exit(0 if counted == read == 199_994 else 3)
_, status = os.waitpid(pid, 0)
print(json.dumps({"status": status}))
"""


def _forked_after_warm_up(tmp_path: Path, modules_source: str) -> dict:
    env = {
        "PATH": "/usr/bin:/bin",
        "JUST_DNA_PIPELINES_CACHE_DIR": str(tmp_path / "cache"),  # fresh: the demo modules get written
        "JUST_DNA_PIPELINES_MODULES_SOURCE": modules_source,
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "HF_HUB_OFFLINE": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "forked.parquet")],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_run_forked_after_a_first_start_can_use_polars(tmp_path: Path) -> None:
    assert _forked_after_warm_up(tmp_path, "demo") == {"status": 0}
    assert (tmp_path / "cache" / "demo-modules").is_dir()  # the first start really did the writing


def test_a_run_forked_from_a_worker_serving_a_module_folder_can_use_polars(
    tmp_path: Path, compiled_modules: Path
) -> None:
    # A local folder's module tables are inspected (their columns read) in the worker itself: with Polars'
    # footer reader every run of the web app hung in its first query (found by bench/webui/bench_webui.py).
    folder = tmp_path / "modules"
    shutil.copytree(compiled_modules, folder)
    assert _forked_after_warm_up(tmp_path, str(folder)) == {"status": 0}


# Warm up as the worker does, then run a sample (module annotation and report) in this process and list
# the project's modules (and the heavy libraries) the run still had to import.
RUN_AFTER_WARM_UP = """
import json, sys
from just_dna_pipelines.runs.worker import _warm_up

_warm_up()
from just_dna_pipelines import service
from just_dna_pipelines.modules.demo import ensure_demo_sample
from just_dna_pipelines.runs.config import RunRequest
from just_dna_pipelines.runs.execute import execute_run

vcf = ensure_demo_sample(service.upload_path("ann", "x.vcf").parent)
key = service.register_sample("ann", "demo_sample", vcf)
before = set(sys.modules)
result = execute_run(RunRequest(partition_key=key, vcf_path=str(vcf), modules=["longevitymap"]))
heavy = ("just_dna_pipelines", "duckdb", "jinja2", "pysam")
late = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in heavy)
print(json.dumps({"success": result.success, "imported_by_the_run": late}))
"""


def test_the_workers_warm_up_imports_what_a_run_imports(tmp_path: Path) -> None:
    # Runs import some modules where they are used (so a command-line run loads only what it needs); the
    # worker forks every run, so whatever the warm-up leaves out is imported again by every run.
    env = {
        "PATH": "/usr/bin:/bin",
        "JUST_DNA_PIPELINES_CACHE_DIR": str(tmp_path / "cache"),
        "JUST_DNA_PIPELINES_INPUT_DIR": str(tmp_path / "input"),
        "JUST_DNA_PIPELINES_OUTPUT_DIR": str(tmp_path / "output"),
        "JUST_DNA_PIPELINES_MODULES_SOURCE": "demo",
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "HF_HUB_OFFLINE": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", RUN_AFTER_WARM_UP], env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"success": True, "imported_by_the_run": []}

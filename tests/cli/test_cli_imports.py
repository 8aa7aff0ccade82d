"""The commands import what they use and no more (issue 14's fixed cost): each runs for real in a fresh process
that lists every module it had loaded by the end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from just_dna_pipelines.modules.demo import ensure_demo_sample

PROBE = """
import json, sys
from just_dna_pipelines.cli import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""
WEB_APP = ("reflex", "webui", "fastapi", "starlette")


def loaded_by(tmp_path: Path, *args: str) -> set[str]:
    """Run `pipelines ARGS` in a fresh interpreter; the modules loaded when it returned."""
    listing = tmp_path / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(listing), *args], capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(listing.read_text())
    assert result["code"] == 0, proc.stdout + proc.stderr
    return set(result["modules"])


def among(modules: set[str], *packages: str) -> list[str]:
    """The loaded modules that are one of `packages` or inside one."""
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


@pytest.mark.slow
def test_annotate_modules_leaves_the_web_app_duckdb_and_bam_code_alone(pipeline_env, tmp_path: Path) -> None:
    sample = ensure_demo_sample(tmp_path)
    args = ("annotate-modules", "--vcf", str(sample), "--modules-source", "demo", "--engine", "polars")
    without_report = loaded_by(tmp_path, *args, "--user", "a", "--no-report")
    assert among(without_report, "just_dna_pipelines.annotation")  # the probe sees the run's own imports
    unused = ("jinja2", "duckdb", "just_dna_pipelines.bam", "just_dna_pipelines.report.build", *WEB_APP)
    assert among(without_report, *unused) == []
    with_report = loaded_by(tmp_path, *args, "--user", "b")
    assert among(with_report, "jinja2", "just_dna_pipelines.report.build")  # the report needs its renderer
    assert among(with_report, "duckdb", "just_dna_pipelines.bam", *WEB_APP) == []


@pytest.mark.slow
def test_stream_bam_leaves_the_annotation_code_and_the_web_app_alone(
    pipeline_env, genomes: Path, tmp_path: Path
) -> None:
    bam = genomes / "HG002_chr11_119076212_119102218_2.bam"
    loaded = loaded_by(tmp_path, "stream-bam", str(bam))
    assert among(loaded, "just_dna_pipelines.bam")
    unused = (
        "polars",
        "duckdb",
        "jinja2",
        "just_dna_pipelines.annotation",
        "just_dna_pipelines.report",
        *WEB_APP,
    )
    assert among(loaded, *unused) == []

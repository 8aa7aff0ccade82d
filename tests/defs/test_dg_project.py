"""The project is a dg project: `dg list defs` loads it, and a defs.yaml in the documented form loads too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BAM_DEFS_YAML = """type: just_dna_pipelines.defs.bam.StreamingBamFileSensor
attributes:
  bam_directory: {folder}
  file_pattern: "*.bam"
  name: inbox_bam_sensor
"""
STREAMER_DEFS_YAML = """type: just_dna_pipelines.defs.bam.StreamingBamChunkStreamer
attributes:
  chunk_size: 500
  name: inbox_stream_op
"""
PROCESSOR_DEFS_YAML = """type: just_dna_pipelines.defs.bam.StreamingBamChunkProcessor
attributes:
  output_directory: {folder}
  name: inbox_process_op
"""
DEFINITIONS_PY = """from pathlib import Path

import dagster as dg

from just_dna_pipelines.defs.bam import StreamingBamChunkProcessor, StreamingBamChunkStreamer, build_streaming_bam_job

job = build_streaming_bam_job(StreamingBamChunkStreamer(), StreamingBamChunkProcessor())
defs = dg.Definitions.merge(
    dg.load_from_defs_folder(project_root=Path(__file__).parent.parent), dg.Definitions(jobs=[job])
)
"""


def dg_list_defs(cwd: Path, tmp_path: Path, **env: str) -> dict:
    """`dg list defs --json` in `cwd` with a throwaway Dagster home, parsed."""
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    dg = Path(sys.executable).with_name("dg")
    result = subprocess.run(
        [str(dg), "list", "defs", "--json"],
        cwd=cwd,
        env=os.environ | {"DAGSTER_HOME": str(home), "HF_ENDPOINT": "http://127.0.0.1:9", **env},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


@pytest.mark.slow
def test_dg_list_defs_loads_the_project(tmp_path: Path) -> None:
    listed = dg_list_defs(REPO / "just-dna-pipelines", tmp_path)
    assets = {a["asset_key"] for a in listed["assets"]}
    assert {
        "ensembl_hf_dataset",
        "ensembl_annotations",
        "user_annotated_vcf",
        "user_annotated_vcf_duckdb",
    } <= assets
    assert {"hf_annotators_dataset", "modules/longevitymap", "user_module_annotations/longevitymap"} <= assets
    sensors = {s["name"] for s in listed["sensors"]}
    assert "reannotation_sensor" in sensors and "default_automation_condition_sensor" not in sensors
    assert {"annotate_sample_job", "download_ensembl_job", "observe_sources_job"} <= {
        j["name"] for j in listed["jobs"]
    }


@pytest.mark.slow
def test_bam_components_load_from_defs_yaml_in_the_documented_form(tmp_path: Path) -> None:
    project = tmp_path / "bam_project"
    package = project / "bam_project"
    (package / "defs" / "inbox").mkdir(parents=True)
    (package / "defs" / "streamer").mkdir()
    (package / "defs" / "processor").mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "bam-project"\nversion = "0"\n\n[tool.dg]\ndirectory_type = "project"\n\n'
        '[tool.dg.project]\nroot_module = "bam_project"\n'
    )
    (package / "__init__.py").write_text("")
    (package / "defs" / "__init__.py").write_text("")
    (package / "definitions.py").write_text(DEFINITIONS_PY)
    (package / "defs" / "inbox" / "defs.yaml").write_text(BAM_DEFS_YAML.format(folder=tmp_path / "bams"))
    (package / "defs" / "streamer" / "defs.yaml").write_text(STREAMER_DEFS_YAML)
    (package / "defs" / "processor" / "defs.yaml").write_text(
        PROCESSOR_DEFS_YAML.format(folder=tmp_path / "out")
    )
    venv = str(Path(sys.executable).parent.parent)
    listed = dg_list_defs(project, tmp_path, PYTHONPATH=str(project), VIRTUAL_ENV=venv)
    assert {s["name"] for s in listed["sensors"]} == {"inbox_bam_sensor"}


def test_add_partition_command(pipeline_env, capsys) -> None:
    from just_dna_pipelines.cli import main
    from just_dna_pipelines.runs.instance import get_instance

    assert main(["add-partition", "user1/sample1"]) == 0
    assert "added user_vcf_files partition user1/sample1" in capsys.readouterr().out
    assert get_instance().has_dynamic_partition("user_vcf_files", "user1/sample1")
    assert main(["add-partition", "user1/sample1"]) == 0 and "already there" in capsys.readouterr().out
    assert main(["add-partition", "../etc"]) == 2
    assert capsys.readouterr().err.startswith("error: invalid user name '..'")
    assert main(["add-partition", "nouser"]) == 2
    assert capsys.readouterr().err.startswith("error: invalid partition key")

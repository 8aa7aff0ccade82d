"""The project is a dg project: `dg list defs` loads it, and a defs.yaml in the documented form loads too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import polars as pl
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
PIPELINE_DEFS_YAML = """type: just_dna_pipelines.defs.bam.StreamingBamFileSensor
attributes:
  bam_directory: {folder}
  name: lab_bam_sensor
  streamer:
    chunk_size: 2500
  processor:
    output_directory: {out}
"""
DEFINITIONS_PY = """from pathlib import Path

import dagster as dg

from just_dna_pipelines.defs.bam import StreamingBamChunkProcessor, StreamingBamChunkStreamer, build_streaming_bam_job

job = build_streaming_bam_job(StreamingBamChunkStreamer(), StreamingBamChunkProcessor())
defs = dg.Definitions.merge(
    dg.load_from_defs_folder(project_root=Path(__file__).parent.parent), dg.Definitions(jobs=[job])
)
"""


def run_dg(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`dg ARGS` in `cwd` (the Dagster home and the rest from the environment plus `env`); it must succeed."""
    dg = Path(sys.executable).with_name("dg")
    result = subprocess.run(
        [str(dg), *args],
        cwd=cwd,
        env=os.environ | {"HF_ENDPOINT": "http://127.0.0.1:9", **env},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return result


def dg_list_defs(cwd: Path, tmp_path: Path, **env: str) -> dict:
    """`dg list defs --json` in `cwd` with a throwaway Dagster home, parsed."""
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return json.loads(run_dg(cwd, "list", "defs", "--json", DAGSTER_HOME=str(home), **env).stdout)


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
    (package / "defs" / "lab").mkdir()
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
    (package / "defs" / "lab" / "defs.yaml").write_text(
        PIPELINE_DEFS_YAML.format(folder=tmp_path / "lab_bams", out=tmp_path / "lab_out")
    )
    venv = str(Path(sys.executable).parent.parent)
    listed = dg_list_defs(project, tmp_path, PYTHONPATH=str(project), VIRTUAL_ENV=venv)
    assert {s["name"] for s in listed["sensors"]} == {"inbox_bam_sensor", "lab_bam_sensor"}
    # the sensor declared with streamer and processor blocks brings its own job
    assert {j["name"] for j in listed["jobs"]} >= {"streaming_bam_job", "lab_bam_sensor_job"}


@pytest.mark.slow
def test_the_documented_dg_commands_check_and_materialize(pipeline_env, add_sample, tmp_path: Path) -> None:
    """README's commands: `dg check defs`; the reference for one contig from a local folder in the Ensembl layout;
    one sample's first two assets for its partition (added with `pipelines add-partition`), in the app's instance."""
    from just_dna_pipelines.cli import main
    from just_dna_pipelines.modules.demo import ensure_demo_sample
    from just_dna_pipelines.runs.instance import get_instance

    project = REPO / "just-dna-pipelines"
    assert "All definitions loaded successfully." in run_dg(project, "check", "defs").stdout
    reference = tmp_path / "reference" / "data"
    reference.mkdir(parents=True)
    pl.DataFrame(
        {
            "chrom": ["21", "21"],
            "start": [100, 200],
            "ref": ["A", "C"],
            "alt": ["G", "T"],
            "id": ["rs1", "rs2"],
        }
    ).write_parquet(reference / "homo_sapiens-chr21.parquet")
    config = json.dumps({"ops": {"ensembl_annotations": {"config": {"contigs": ["21"]}}}})
    source = {"JUST_DNA_PIPELINES_ENSEMBL_SOURCE": str(reference.parent)}
    run_dg(project, "launch", "--assets", "ensembl_annotations", "--config-json", config, **source)
    instance = get_instance()
    event = instance.get_latest_materialization_event(dg.AssetKey("ensembl_annotations"))
    assert event is not None and event.asset_materialization is not None
    metadata = event.asset_materialization.metadata
    assert metadata["rows"].value == 2 and metadata["files"].value == ["homo_sapiens-chr21.parquet"]

    add_sample("user1", ensure_demo_sample(tmp_path), "sample1")
    assert main(["add-partition", "user1/sample1"]) == 0
    run_dg(
        project, "launch", "--assets", "user_vcf_source,user_vcf_normalized", "--partition", "user1/sample1",
        JUST_DNA_PIPELINES_MODULES_SOURCE="demo",
    )  # fmt: skip
    normalized = instance.get_latest_materialization_event(dg.AssetKey("user_vcf_normalized"))
    assert normalized is not None and normalized.dagster_event is not None
    assert normalized.dagster_event.partition == "user1/sample1"
    assert (pipeline_env.output_dir / "users" / "user1" / "sample1").is_dir()
    # Without contigs in its config, the reference is what the samples need: of chr1-22 in the folder, the
    # demo sample's twelve chromosomes.
    rows = pl.read_parquet(reference / "homo_sapiens-chr21.parquet")
    for number in range(1, 23):
        rows.with_columns(chrom=pl.lit(str(number))).write_parquet(
            reference / f"homo_sapiens-chr{number}.parquet"
        )
    run_dg(project, "launch", "--assets", "ensembl_annotations", **source)
    event = instance.get_latest_materialization_event(dg.AssetKey("ensembl_annotations"))
    assert event is not None and event.asset_materialization is not None
    needed = [1, 2, 3, 4, 6, 7, 8, 9, 11, 12, 16, 21]
    assert event.asset_materialization.metadata["files"].value == [
        f"homo_sapiens-chr{n}.parquet" for n in needed
    ]


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

"""The three BAM components load from defs.yaml attributes and from Python, and compose the job."""

from __future__ import annotations

import importlib
import json
import textwrap
from pathlib import Path

import dagster as dg
import pytest
from dagster.components.core.component_tree import ComponentTree

from just_dna_pipelines.defs.bam import (
    StreamingBamChunkProcessor,
    StreamingBamChunkStreamer,
    StreamingBamFileSensor,
    build_streaming_bam_job,
)
from just_dna_pipelines.defs.bam.sensors import stream_run_config

from .conftest import HTSNEXUS, genome, output_folder


def _from_yaml(tmp_path: Path, name: str, body: str) -> dg.Component:
    path = tmp_path / name / "defs.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(textwrap.dedent(body))
    folder = dg.Component.from_yaml_path(path)  # the defs folder (the cwd) holding the YAML declarations
    (component,) = folder.children[path.parent].components  # type: ignore[attr-defined]
    return component


def test_components_load_from_defs_yaml_and_compose_a_working_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # Dagster's test component tree scans the working directory
    out = tmp_path / "json"
    streamer = _from_yaml(
        tmp_path,
        "streamer",
        """
        type: just_dna_pipelines.defs.bam.StreamingBamChunkStreamer
        attributes:
          chunk_size: 5000
        """,
    )
    processor = _from_yaml(
        tmp_path,
        "processor",
        f"""
        type: just_dna_pipelines.defs.bam.StreamingBamChunkProcessor
        attributes:
          output_directory: {out}
        """,
    )
    assert isinstance(streamer, StreamingBamChunkStreamer) and streamer.chunk_size == 5000
    assert isinstance(processor, StreamingBamChunkProcessor)
    job = build_streaming_bam_job(streamer, processor, name="yaml_bam_job")
    # chunk_size left out of the run config: the component's default (5000) applies
    config = stream_run_config(str(genome(HTSNEXUS)), 1)
    del config["ops"]["stream_bam_chunks_op"]["inputs"]["chunk_size"]
    assert job.execute_in_process(run_config=config).success
    summary = json.loads((output_folder(out, genome(HTSNEXUS)) / "summary.json").read_text())
    assert summary["file_info"]["total_chunks"] == 8


def test_sensor_component_from_attributes_builds_a_sensor(tmp_path: Path) -> None:
    sensor = StreamingBamFileSensor.from_attributes_dict(
        attributes={"directory": str(tmp_path), "glob": "*.bam", "job_name": "streaming_bam_job"}
    )
    defs = sensor.build_defs(ComponentTree.for_test().load_context)
    assert [s.name for s in defs.sensors or []] == ["streaming_bam_file_sensor"]


def test_attributes_are_validated() -> None:
    with pytest.raises(Exception, match="chunk_size"):
        StreamingBamChunkStreamer.from_attributes_dict(attributes={"chunk_size": "many"})
    with pytest.raises(Exception, match="unknown_option"):
        StreamingBamChunkProcessor.from_attributes_dict(attributes={"unknown_option": 1})


@pytest.mark.parametrize("module", ["just_dna_pipelines.definitions", "just_dna_pipelines.bam_definitions"])
def test_the_code_locations_have_the_job_and_sensor(module: str) -> None:
    defs = importlib.import_module(module).defs
    job = defs.resolve_job_def("streaming_bam_job")
    assert {node.name for node in job.nodes} == {
        "stream_bam_chunks_op",
        "process_bam_chunks_op",
        "publish_bam_summary_op",
    }
    assert defs.resolve_sensor_def("streaming_bam_file_sensor").job_name == "streaming_bam_job"

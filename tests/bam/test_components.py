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


def test_one_sensor_declaration_with_streamer_and_processor_blocks_is_a_whole_pipeline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The streamer's chunk size and the processor's output folder, declared in YAML, are what its runs use."""
    monkeypatch.chdir(tmp_path)
    inbox, out = tmp_path / "inbox", tmp_path / "stats"
    inbox.mkdir()
    bam = inbox / "reads.bam"
    bam.write_bytes(genome(HTSNEXUS).read_bytes())
    sensor = _from_yaml(
        tmp_path,
        "lab_bams",
        f"""
        type: just_dna_pipelines.defs.bam.StreamingBamFileSensor
        attributes:
          bam_directory: {inbox}
          name: lab_bam_sensor
          streamer:
            chunk_size: 2500
            name: lab_stream_op
          processor:
            output_directory: {out}
            name: lab_process_op
        """,
    )
    defs = sensor.build_defs(ComponentTree.for_test().load_context)
    job = defs.resolve_job_def("lab_bam_sensor_job")
    assert {node.name for node in job.nodes} == {
        "lab_stream_op",
        "lab_process_op",
        "lab_bam_sensor_summary_op",
    }
    sensor_def = defs.resolve_sensor_def("lab_bam_sensor")
    assert sensor_def.job_name == "lab_bam_sensor_job"
    with dg.instance_for_test() as instance:
        tick = sensor_def.evaluate_tick(dg.build_sensor_context(instance=instance))
        (request,) = tick.run_requests or []
        assert request.run_config == {"ops": {"lab_stream_op": {"inputs": {"bam_url": str(bam)}}}}
        assert job.execute_in_process(run_config=request.run_config, instance=instance).success
    summary = json.loads((output_folder(out, bam) / "summary.json").read_text())
    # 39,918 reads in chunks of the streamer's 2,500 (the default chunk size, 1,000, would give 40)
    assert summary["stats"]["total_reads"] == 39_918 and summary["file_info"]["total_chunks"] == 16
    assert sorted(p.name for p in output_folder(out, bam).glob("chunk_*.json")) == [
        f"chunk_{n:06d}.json" for n in range(1, 17)
    ]


def test_a_sensor_with_only_a_processor_block_uses_the_default_streamer_and_its_job_name(
    tmp_path: Path,
) -> None:
    sensor = StreamingBamFileSensor.from_attributes_dict(
        attributes={
            "bam_directory": str(tmp_path),
            "job_name": "lab_job",
            "processor": {"output_directory": "/x"},
        }
    )
    defs = sensor.build_defs(ComponentTree.for_test().load_context)
    # its ops are named after the sensor, so they never clash with the code location's streaming_bam_job
    assert {node.name for node in defs.resolve_job_def("lab_job").nodes} == {
        "streaming_bam_file_sensor_stream_op",
        "streaming_bam_file_sensor_process_op",
        "streaming_bam_file_sensor_summary_op",
    }
    assert defs.resolve_sensor_def("streaming_bam_file_sensor").job_name == "lab_job"


def test_sensor_component_from_attributes_builds_a_sensor(tmp_path: Path) -> None:
    sensor = StreamingBamFileSensor.from_attributes_dict(
        attributes={"directory": str(tmp_path), "glob": "*.bam", "job_name": "streaming_bam_job"}
    )
    defs = sensor.build_defs(ComponentTree.for_test().load_context)
    assert [s.name for s in defs.sensors or []] == ["streaming_bam_file_sensor"]
    assert not list(defs.jobs or [])  # alone, it launches the code location's job


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

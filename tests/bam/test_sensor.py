"""StreamingBamFileSensor: one run per new or changed file version, cursor persisted between ticks."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import dagster as dg

from just_dna_pipelines.defs.bam import StreamingBamFileSensor

from .conftest import HTSNEXUS, LoopbackServer, genome


def _tick(sensor: dg.SensorDefinition, instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    """Evaluate one tick and return its run requests and new cursor."""
    context = dg.build_sensor_context(cursor=cursor, instance=instance)
    return sensor.evaluate_tick(context)  # type: ignore[return-value]


def test_folder_glob_launches_once_per_file_version(tmp_path: Path) -> None:
    folder = tmp_path / "bams"
    folder.mkdir()
    bam = folder / "sample.bam"
    shutil.copy(genome(HTSNEXUS), bam)
    (folder / "notes.txt").write_text("not matched by *.bam")
    sensor = StreamingBamFileSensor(directory=str(folder), chunk_size=500).build_sensor()
    with dg.instance_for_test() as instance:
        first = _tick(sensor, instance, None)
        assert len(first.run_requests or []) == 1
        request = (first.run_requests or [])[0]
        assert request.run_config == {
            "ops": {"stream_bam_chunks_op": {"inputs": {"bam_url": str(bam), "chunk_size": 500}}}
        }
        assert request.run_key is not None and request.run_key.startswith(f"{bam}|size=")

        second = _tick(sensor, instance, first.cursor)
        assert not second.run_requests
        assert second.cursor in (None, first.cursor)

        os.utime(bam, ns=(bam.stat().st_atime_ns, bam.stat().st_mtime_ns + 10**9))
        third = _tick(sensor, instance, first.cursor)
        assert len(third.run_requests or []) == 1
        assert (third.run_requests or [])[0].run_key != request.run_key
        assert json.loads(third.cursor or "{}")[str(bam)] != json.loads(first.cursor or "{}")[str(bam)]


def test_configured_urls_use_etag_and_skip_unreachable_ones(remote_folder: LoopbackServer) -> None:
    shutil.copy(genome(HTSNEXUS), remote_folder.root / "remote.bam")
    url = remote_folder.url("remote.bam")
    sensor = StreamingBamFileSensor(urls=[url, remote_folder.url("missing.bam")]).build_sensor()
    with dg.instance_for_test() as instance:
        first = _tick(sensor, instance, None)
        assert [r.tags["bam_url"] for r in first.run_requests or []] == [url]
        assert "etag=" in json.loads(first.cursor or "{}")[url]
        assert not _tick(sensor, instance, first.cursor).run_requests
    # the sensor only asked for headers: no GET of the BAM itself
    assert not [line for line in remote_folder.requests if line.startswith("GET /remote.bam")]


def test_sensor_targets_the_configured_job() -> None:
    sensor = StreamingBamFileSensor(job_name="other_bam_job", sensor_name="other_sensor").build_sensor()
    assert sensor.name == "other_sensor"
    assert sensor.job_name == "other_bam_job"

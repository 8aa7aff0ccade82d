"""The drop-folder sensor: partitions and runs for new or changed VCFs, once per file version."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import dagster as dg

from just_dna_pipelines.defs.annotation.sensors import SETTLE_SECONDS, build_user_vcf_sensor


def tick(sensor: dg.SensorDefinition, cursor: str | None, instance: dg.DagsterInstance) -> dg.SensorResult:
    context = dg.build_sensor_context(cursor=cursor, instance=instance)
    result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def settle(path: Path) -> None:
    """Date the file's last change back past the settling time, as a finished copy some minutes old."""
    past = time.time() - SETTLE_SECONDS - 5
    os.utime(path, (past, past))


def test_new_then_unchanged_then_changed(pipeline_env, genomes: Path) -> None:
    user_dir = pipeline_env.input_dir / "users" / "alice"
    user_dir.mkdir(parents=True)
    vcf = user_dir / "my genome.vcf"
    shutil.copy(genomes / "antku_small.vcf", vcf)
    (user_dir / "notes.txt").write_text("not a vcf")
    hostile = pipeline_env.input_dir / "users" / "..evil"
    hostile.mkdir()
    (hostile / "x.vcf").write_text("##fileformat=VCFv4.2\n")
    sensor = build_user_vcf_sensor("annotate_and_report_job")
    instance = dg.DagsterInstance.ephemeral()

    still_copying = tick(sensor, None, instance)  # changed a moment ago: maybe not all there yet
    assert still_copying.run_requests == [] and still_copying.dynamic_partitions_requests == []
    assert json.loads(still_copying.cursor)[str(vcf)].startswith("waiting:")  # seen, not taken
    settle(vcf)
    first = tick(sensor, still_copying.cursor, instance)
    assert [r.partition_key for r in first.run_requests] == ["alice/my_genome"]
    request = first.run_requests[0]
    assert request.run_config["ops"]["user_vcf_source"]["config"]["vcf_path"] == str(vcf)
    (partitions,) = first.dynamic_partitions_requests
    assert list(partitions.partition_keys) == ["alice/my_genome"]
    assert str(vcf) in json.loads(first.cursor)

    second = tick(sensor, first.cursor, instance)
    assert second.run_requests == [] and second.dynamic_partitions_requests == []

    with vcf.open("a") as handle:
        handle.write("\n")
    assert tick(sensor, second.cursor, instance).run_requests == []  # being changed: wait until it settles
    settle(vcf)
    third = tick(sensor, second.cursor, instance)
    assert [r.partition_key for r in third.run_requests] == ["alice/my_genome"]
    assert third.run_requests[0].run_key != request.run_key


def test_a_file_dated_ahead_of_the_clock_is_taken_once_seen_unchanged_long_enough(
    pipeline_env, genomes: Path
) -> None:
    """A file time ahead of the clock (a zip made in another time zone, a client clock ahead on a network share) was
    never settled by its time alone; a file still growing under one time (a copier that sets it first) waited."""
    user_dir = pipeline_env.input_dir / "users" / "alice"
    user_dir.mkdir(parents=True)
    vcf = user_dir / "ahead.vcf"
    shutil.copy(genomes / "antku_small.vcf", vcf)
    ahead = time.time() + 3600
    os.utime(vcf, (ahead, ahead))
    sensor = build_user_vcf_sensor("annotate_and_report_job")
    instance = dg.DagsterInstance.ephemeral()

    first = tick(sensor, None, instance)
    assert first.run_requests == []
    entry = json.loads(first.cursor)[str(vcf)]
    version = entry.removeprefix("waiting:").rpartition("@")[0]
    long_ago = json.dumps({str(vcf): f"waiting:{version}@{time.time() - SETTLE_SECONDS - 1}"})
    assert [r.partition_key for r in tick(sensor, long_ago, instance).run_requests] == ["alice/ahead"]

    with vcf.open("a") as handle:  # grew since it was first seen, its time kept: wait again
        handle.write("\n")
    os.utime(vcf, (ahead, ahead))
    assert tick(sensor, long_ago, instance).run_requests == []

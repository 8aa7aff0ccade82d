"""Discover VCFs dropped into `{INPUT_DIR}/users/{user}/` and annotate them."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from just_dna_pipelines.defs.annotation.partitions import USER_VCF_FILES
from just_dna_pipelines.keys import InvalidKeyError, make_partition_key, sample_name_from_filename
from just_dna_pipelines.settings import get_settings
from just_dna_pipelines.uploads import is_vcf_name

# A dropped file is taken once it has not changed for this long: one still being copied in would be read cut short.
SETTLE_SECONDS = 60
WAITING = "waiting:"  # a cursor entry of a file seen changing: "waiting:{version}@{first seen at}"


@dataclass(frozen=True)
class DroppedFile:
    """A VCF found in the drop folder: its sample's partition key, its version (size and time) and its time."""

    key: str
    version: str
    mtime: float


def discover_dropped_vcfs(input_dir: Path) -> dict[str, DroppedFile]:
    """Each VCF under `input_dir/users/{user}/` by path, named by its file name; unsafe names skipped."""
    found: dict[str, DroppedFile] = {}
    users_dir = input_dir / "users"
    if not users_dir.is_dir():
        return found
    for user_dir in sorted(p for p in users_dir.iterdir() if p.is_dir()):
        for path in sorted(p for p in user_dir.iterdir() if p.is_file() and is_vcf_name(p.name)):
            try:
                key = make_partition_key(user_dir.name, sample_name_from_filename(path.name))
            except InvalidKeyError:
                continue
            stat = path.stat()
            found[str(path)] = DroppedFile(key, f"{stat.st_size}-{stat.st_mtime_ns}", stat.st_mtime)
    return found


def settled(file: DroppedFile, entry: str | None, now: float) -> tuple[bool, str]:
    """(whether the file may be read now, its cursor entry until it is): it may once its time is SETTLE_SECONDS
    old, or once it was seen unchanged that long (a file whose time is ahead of the clock, or set before the copy
    ended, still waits until its size and time stop changing)."""
    if now - file.mtime >= SETTLE_SECONDS:
        return True, file.version
    since = now
    if entry is not None and entry.startswith(WAITING):
        version, _, first_seen = entry[len(WAITING) :].rpartition("@")
        if version == file.version:
            since = float(first_seen)
    if now - since >= SETTLE_SECONDS:
        return True, file.version
    return False, f"{WAITING}{file.version}@{since}"


def build_user_vcf_sensor(job_name: str) -> dg.SensorDefinition:
    """The sensor, targeting `job_name` (the annotate+report job once the report exists)."""

    @dg.sensor(
        name="user_vcf_discovery_sensor",
        job_name=job_name,
        minimum_interval_seconds=15,
        # Off by default: the web app launches its own runs for uploads; turn on for drop-folder use.
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Adds a user/sample partition and a run for each new or changed VCF in the input folder, "
        f"once it has not changed for {SETTLE_SECONDS} s.",
    )
    def user_vcf_discovery_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        """Run each new or changed file version once; the cursor remembers the versions already requested."""
        seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        now = time.time()
        requests = []
        new_keys: list[str] = []
        cursor: dict[str, str] = {}
        for path, file in discover_dropped_vcfs(get_settings().input_dir).items():
            if seen.get(path) == file.version:
                cursor[path] = file.version
                continue
            ready, cursor[path] = settled(file, seen.get(path), now)
            if not ready:
                continue
            new_keys.append(file.key)
            requests.append(
                dg.RunRequest(
                    run_key=f"{file.key}:{file.version}",
                    partition_key=file.key,
                    run_config={"ops": {"user_vcf_source": {"config": {"vcf_path": path}}}},
                    tags={"source": "user_vcf_discovery_sensor"},
                )
            )
        return dg.SensorResult(
            run_requests=requests,
            dynamic_partitions_requests=(
                [dg.AddDynamicPartitionsRequest(USER_VCF_FILES, sorted(set(new_keys)))] if new_keys else []
            ),
            cursor=json.dumps(cursor, sort_keys=True),
        )

    return user_vcf_discovery_sensor

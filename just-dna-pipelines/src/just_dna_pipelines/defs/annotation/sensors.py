"""Discover VCFs dropped into `{INPUT_DIR}/users/{user}/` and annotate them."""

from __future__ import annotations

import json
import time
from pathlib import Path

import dagster as dg

from just_dna_pipelines.defs.annotation.partitions import USER_VCF_FILES
from just_dna_pipelines.keys import InvalidKeyError, make_partition_key, sample_name_from_filename
from just_dna_pipelines.settings import get_settings
from just_dna_pipelines.uploads import is_vcf_name

# A dropped file is taken once it has not changed for this long: one still being copied in would be read cut short.
SETTLE_SECONDS = 60


def discover_dropped_vcfs(input_dir: Path, settled_before: float | None = None) -> dict[str, tuple[str, str]]:
    """Map each VCF under `input_dir/users/{user}/` to (partition key, version) by file name; unsafe names skipped,
    and files changed after `settled_before` (a time) left for a later look."""
    found: dict[str, tuple[str, str]] = {}
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
            if settled_before is not None and stat.st_mtime > settled_before:
                continue
            found[str(path)] = (key, f"{stat.st_size}-{stat.st_mtime_ns}")
    return found


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
        found = discover_dropped_vcfs(get_settings().input_dir, settled_before=time.time() - SETTLE_SECONDS)
        requests = []
        new_keys: list[str] = []
        for path, (key, version) in found.items():
            if seen.get(path) == version:
                continue
            new_keys.append(key)
            requests.append(
                dg.RunRequest(
                    run_key=f"{key}:{version}",
                    partition_key=key,
                    run_config={"ops": {"user_vcf_source": {"config": {"vcf_path": path}}}},
                    tags={"source": "user_vcf_discovery_sensor"},
                )
            )
        cursor = {path: version for path, (_, version) in found.items()}
        return dg.SensorResult(
            run_requests=requests,
            dynamic_partitions_requests=(
                [dg.AddDynamicPartitionsRequest(USER_VCF_FILES, sorted(set(new_keys)))] if new_keys else []
            ),
            cursor=json.dumps(cursor, sort_keys=True),
        )

    return user_vcf_discovery_sensor

"""The IO manager that owns every per-sample output path and moves outputs into place atomically."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.parquet as pq

from just_dna_pipelines.io.atomic import atomic_write_text, replace_dir
from just_dna_pipelines.keys import parse_partition_key
from just_dna_pipelines.settings import get_settings
from just_dna_pipelines.staging import run_staging_dir, staging_root

# Where each asset lives inside `{OUTPUT_DIR}/users/{user}/{sample}/`.
ASSET_PATHS = {
    "user_vcf_source": "source.json",
    "user_vcf_normalized": "normalized/variants.parquet",
    "user_hf_module_annotations": "modules",
    # Both engines make the same data; whichever ran last owns the folder (its manifest names the engine).
    "user_annotated_vcf": "ensembl",
    "user_annotated_vcf_duckdb": "ensembl",
}
FACTS_FILE = "facts.json"
STALE_STAGING_S = 6 * 3600
UNATTRIBUTED = "no-run"  # staging made outside a Dagster run (never by the pipeline's own runs)
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class SampleArtifact:
    """A file or folder an asset produced, with its facts; staged on output, final on input."""

    path: Path
    facts: dict[str, Any] = field(default_factory=dict)


def run_staging_size(run_id: str, output_dir: Path | None = None) -> int | None:
    """How many bytes a run's staging folder holds, or None when it has none."""
    folder = run_staging_dir(run_id, output_dir)
    if not folder.is_dir():
        return None
    total = 0
    for root, _, files in os.walk(folder):  # os.walk skips what vanishes meanwhile; rglob raises
        for name in files:
            with contextlib.suppress(OSError):  # the run may be moving or removing files meanwhile
                total += (Path(root) / name).stat().st_size
    return total


def remove_run_staging(run_id: str, output_dir: Path | None = None) -> int | None:
    """Delete a run's staging folder; return how many bytes it held, or None when it had none."""
    size = run_staging_size(run_id, output_dir)
    if size is not None:
        shutil.rmtree(run_staging_dir(run_id, output_dir), ignore_errors=True)
    return size


def _current_run() -> tuple[str, dg.DagsterInstance | None]:
    """The run id (and instance) of the asset being computed, or a placeholder outside a run."""
    try:
        context = dg.OpExecutionContext.get()
    except dg.DagsterInvariantViolationError:
        return UNATTRIBUTED, None
    return context.run_id, context.instance


@contextlib.contextmanager
def staging_dir() -> Iterator[Path]:
    """A fresh staging folder for one asset output, under its run's folder; removed if the asset fails."""
    run_id, instance = _current_run()
    _remove_stale_staging(instance)
    staging = staging_root() / run_id / uuid.uuid4().hex
    staging.mkdir(parents=True)
    try:
        yield staging
    except BaseException:
        _discard_staging(staging)
        raise


def _remove_stale_staging(instance: dg.DagsterInstance | None) -> None:
    """Delete staging a killed run left behind (older than STALE_STAGING_S, its run not in progress)."""
    root = staging_root()
    if not root.is_dir():
        return
    cutoff = time.time() - STALE_STAGING_S
    for folder in root.iterdir():
        with contextlib.suppress(OSError):
            if folder.stat().st_mtime < cutoff and not _run_in_progress(instance, folder.name):
                shutil.rmtree(folder, ignore_errors=True)


def _run_in_progress(instance: dg.DagsterInstance | None, name: str) -> bool:
    """Whether a staging folder belongs to a run that is still going (a long run's staging is not stale)."""
    if instance is None or name == UNATTRIBUTED:
        return False
    run = instance.get_run_by_id(name)
    return run is not None and not run.is_finished


def _discard_staging(path: Path) -> None:
    """Remove a staging folder once its output has been moved into place (or failed), and its empty run folder."""
    root = staging_root()
    for candidate in (path, *path.parents):
        if candidate.parent.parent == root:
            shutil.rmtree(candidate, ignore_errors=True)
            with contextlib.suppress(OSError):
                candidate.parent.rmdir()  # only when the run has no other staging left
            return


def _final_path(context: dg.OutputContext | dg.InputContext) -> Path:
    user, sample = parse_partition_key(context.asset_partition_key)
    name = context.asset_key.path[-1]
    return get_settings().sample_output_dir(user, sample) / ASSET_PATHS[name]


def _file_metadata(path: Path) -> dict[str, Any]:
    metadata: dict[str, Any] = {"path": dg.MetadataValue.path(str(path))}
    if path.is_file():
        metadata["size_bytes"] = path.stat().st_size
        if path.suffix == ".parquet":
            parquet = pq.ParquetFile(path)
            metadata["rows"] = parquet.metadata.num_rows
            metadata["schema"] = dg.MetadataValue.md(
                "\n".join(f"- `{f.name}`: {f.type}" for f in parquet.schema_arrow)
            )
    elif path.is_dir():
        files = [p for p in path.iterdir() if p.is_file()]
        metadata["size_bytes"] = sum(p.stat().st_size for p in files)
        metadata["files"] = len(files)
    return metadata


class SampleStorageIOManager(dg.ConfigurableIOManager):
    """Stores per-sample assets under the output folder by partition key; every write is atomic."""

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """In a run of Dagster's queue, name this process as the one running it (pid, start time, host).

        Initialized once when the run's process starts (before its first step), so a reader can tell the run is
        dead when its process is gone, also when the code server that watched it died with it (a whole-stack
        kill or a power cut): the DefaultRunLauncher offers Dagster's run monitoring no health check."""
        from just_dna_pipelines.runs import tags
        from just_dna_pipelines.runs.dagster_config import QUEUE_LAUNCHER

        run, instance = context.dagster_run, context.instance
        if run is None or instance is None or run.tags.get(tags.LAUNCHER) != QUEUE_LAUNCHER:
            return
        if tags.PID not in run.tags:
            instance.add_run_tags(run.run_id, tags.process_tags("queue"))

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        """Move a staged artifact (or write a JSON value) into the asset's final place."""
        target = _final_path(context)
        if isinstance(obj, dict):
            atomic_write_text(target, json.dumps(obj, indent=2, sort_keys=True))
        elif isinstance(obj, SampleArtifact) and obj.path.is_dir():
            replace_dir(obj.path, target)
        elif isinstance(obj, SampleArtifact):
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(target.with_name(FACTS_FILE), json.dumps(obj.facts, indent=2, sort_keys=True))
            os.replace(obj.path, target)
        else:
            raise TypeError(f"cannot store {type(obj).__name__} for {context.asset_key.to_user_string()}")
        if isinstance(obj, SampleArtifact):
            _discard_staging(obj.path)
        context.add_output_metadata(_file_metadata(target))

    def load_input(self, context: dg.InputContext) -> Any:
        """Give the downstream asset the final artifact (or the JSON value)."""
        source = _final_path(context)
        if not source.exists():
            raise FileNotFoundError(
                f"{context.asset_key.to_user_string()} has not been materialized: {source}"
            )
        if source.suffix == ".json":
            return json.loads(source.read_text())
        facts_file = source / MANIFEST_FILE if source.is_dir() else source.with_name(FACTS_FILE)
        facts = json.loads(facts_file.read_text()) if facts_file.exists() else {}
        return SampleArtifact(source, facts)

"""The per-sample manifest: what was annotated, with which modules and inputs, and how it went."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from just_dna_pipelines import __version__
from just_dna_pipelines.io.file_hash import sha256_of
from just_dna_pipelines.modules.dropped import dropped_counts

RESULTS_MANIFEST = "manifest.json"  # in the sample's modules/ folder


def current_manifest(results_dir: Path) -> dict[str, Any]:
    """The manifest of the sample's module results in `results_dir` now; {} when there is none or it cannot
    be read (for what only looks at it; the report reads it strictly)."""
    try:
        manifest = json.loads((results_dir / RESULTS_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def module_provenance(module_dir: Path) -> dict[str, Any]:
    """Version (from module.json when present), SHA-256 of a module's weights table, and what its compiler
    dropped from the source (reason -> count; {} when module.json records nothing)."""
    from just_dna_pipelines.modules.layouts import read_meta_file
    from just_dna_pipelines.modules.versions import module_version

    # as the catalog reads it: a module.json holding a list failed the run after every module was matched
    meta = read_meta_file(module_dir / "module.json")
    weights = module_dir / "weights.parquet"
    return {
        "version": module_version(module_dir),
        "title": meta.get("title"),
        "demo": bool(meta.get("demo", False)),
        "sha256": sha256_of(weights) if weights.is_file() else None,
        "dropped": dropped_counts(meta),
    }


def build_manifest(
    *,
    partition_key: str,
    run_id: str | None,
    engine: str,
    source_facts: dict[str, Any],
    normalized_facts: dict[str, Any],
    confident_regions: Path | None,
    modules_source: dict[str, Any],
    modules: dict[str, dict[str, Any]],
    duration_s: float,
    peak_rss_mb: float,
) -> dict[str, Any]:
    """Assemble the manifest in the documented shape (see the report's reader)."""
    user, sample = partition_key.split("/", 1)
    return {
        "user": user,
        "sample": sample,
        "partition_key": partition_key,
        "run_id": run_id,
        "created_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "pipeline_version": __version__,
        "engine": engine,
        "input": {
            "file_name": source_facts["file_name"],
            "sha256": source_facts["sha256"],
            "size_bytes": source_facts["size_bytes"],
            "sample_column": normalized_facts["sample_column"],
            "samples": normalized_facts["samples"],
            "genome_build": normalized_facts["genome_build"],
            "contig_naming": normalized_facts["contig_naming"],
            "is_gvcf": normalized_facts["is_gvcf"],
            "has_rsids": normalized_facts["has_rsids"],
            "records": normalized_facts["records"],
            "records_kept": normalized_facts["records_passing"]
            if normalized_facts.get("read_mode") != "module_sites"
            else None,
            "read_mode": normalized_facts.get("read_mode", "full"),
            "site_reader": normalized_facts.get("site_reader"),
            "malformed_records": int(normalized_facts.get("malformed_records") or 0),
            "warnings": normalized_facts["warnings"],
            # What kind of genome this is and how its positions relate to the modules' GRCh38 sites.
            "input_kind": normalized_facts.get("input_kind", "vcf"),
            "vendor": normalized_facts.get("vendor"),
            "build_source": (normalized_facts.get("build") or {}).get("source", "header"),
            "build_evidence": (normalized_facts.get("build") or {}).get("evidence", {}),
            "liftover": normalized_facts.get("liftover", {"status": "not_needed"}),
            "array": {
                key: normalized_facts.get(key)
                for key in ("layout", "compression", "calls", "no_calls", "indels", "call_rate")
            }
            if normalized_facts.get("input_kind") == "array"
            else None,
        },
        "filters": normalized_facts["filters"],
        "confident_regions": (
            {"file_name": confident_regions.name, "sha256": sha256_of(confident_regions)}
            if confident_regions is not None
            else None
        ),
        "modules_source": modules_source,
        "modules": modules,
        "duration_s": duration_s,
        "peak_rss_mb": peak_rss_mb,
    }

"""Module annotation of a sample: one asset per module (its matched variants) plus the manifest that sums them up.

Built for the modules the graph knows (`build_module_annotations(names)`), as one multi-asset so a run
matches every chosen module in one pass. `user_module_annotations/{module}` depends on that module's
external asset, so its lineage names the module version it was made from; `user_hf_module_annotations`
is the sample's `modules/` folder (per-module Parquet + manifest.json with the testability ledger).

A run that selects only some per-module assets without naming modules (automation, or
`dg launch --assets user_module_annotations/coronary,user_hf_module_annotations`) re-annotates those
modules and carries the sample's other module results over unchanged.
"""

import dataclasses
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
import polars as pl

from just_dna_pipelines.annotation.manifest import build_manifest, module_provenance
from just_dna_pipelines.annotation.pipeline import annotate_sample, context_from_facts
from just_dna_pipelines.defs.annotation.configs import AnnotateConfig
from just_dna_pipelines.defs.annotation.io_managers import MANIFEST_FILE, SampleArtifact, staging_dir
from just_dna_pipelines.defs.annotation.module_sources import MODULES_RESOURCE, module_key
from just_dna_pipelines.defs.annotation.partitions import user_vcf_files_partitions
from just_dna_pipelines.defs.annotation.resources import ModulesSource
from just_dna_pipelines.defs.automation import follow_upstream, module_refresh
from just_dna_pipelines.ensembl.rsid_fill import (
    FillResult,
    apply_rsid_fill,
    matches_via_filled_rsids,
    rsid_only_sites,
)
from just_dna_pipelines.errors import PipelineError
from just_dna_pipelines.io.atomic import atomic_write_text
from just_dna_pipelines.keys import parse_partition_key
from just_dna_pipelines.modules.refresh import RefreshPlan, plan_refresh
from just_dna_pipelines.modules.registry import choose_modules, runnable_modules
from just_dna_pipelines.monitoring import ResourceTracker
from just_dna_pipelines.settings import get_settings
from just_dna_pipelines.staging import staging_root

if TYPE_CHECKING:
    from just_dna_pipelines.ensembl.annotate import EnsemblFill

MODULE_ANNOTATIONS = "user_hf_module_annotations"
SAMPLE_MODULE_PREFIX = "user_module_annotations"
# The Ensembl annotation of a sample (either engine) can fill its missing rsIDs for module matching.
ENSEMBL_SAMPLE_ASSETS = [dg.AssetKey("user_annotated_vcf"), dg.AssetKey("user_annotated_vcf_duckdb")]
# Bump when matching rules change: every per-module result then shows as stale.
MATCHING_CODE_VERSION = "1"


def sample_module_key(name: str) -> dg.AssetKey:
    """The per-sample asset of one module's matched variants."""
    return dg.AssetKey([SAMPLE_MODULE_PREFIX, name])


def sample_fill(partition_key: str, source_sha256: str) -> "EnsemblFill | None":
    """The sample's Ensembl rsID fill, when one was made from this very VCF."""
    # Imported here: the Ensembl engines (DuckDB) load only for a sample that has a fill.
    from just_dna_pipelines.ensembl.annotate import current_fill

    return current_fill(get_settings().sample_output_dir(*parse_partition_key(partition_key)), source_sha256)


def _plan(
    context: dg.AssetExecutionContext,
    config: AnnotateConfig,
    available: list[str],
    refused: dict[str, str],
    graph: list[str],
) -> RefreshPlan:
    """Which modules to run: those named in config, else a refresh of the selected ones, else all."""
    selected = [name for name in graph if sample_module_key(name) in context.selected_asset_keys]
    if config.modules is None and 0 < len(selected) < len(graph):
        results = get_settings().sample_output_dir(*parse_partition_key(context.partition_key)) / "modules"
        return plan_refresh(results, selected, available)
    return RefreshPlan(choose_modules(available, config.modules, refused))


def _module_result(name: str, summary: dict[str, Any]) -> dg.MaterializeResult:
    """The per-module asset's materialization: what the module found and which version it was."""
    ledger = summary.get("ledger") or {}
    return dg.MaterializeResult(
        asset_key=sample_module_key(name),
        metadata={
            "status": summary["status"],
            "matched": int(summary.get("matched", 0)),
            "sites_tested": int(ledger.get("called", 0)) + int(ledger.get("inferred_hom_ref", 0)),
            "sites": int(ledger.get("sites", 0)),
            "matched_via_filled_rsid": int(summary.get("matched_via_filled_rsid", 0)),
            "module_version": str(summary.get("version")),
            "weights_sha256": str(summary.get("sha256")),
        },
    )


def build_module_annotations(module_names: list[str]) -> dg.AssetsDefinition:
    """The module-annotation multi-asset for the modules the graph shows."""
    graph = list(module_names)
    per_module = [
        dg.AssetSpec(
            sample_module_key(name),
            deps=[module_key(name), "user_vcf_normalized", *ENSEMBL_SAMPLE_ASSETS],
            description=f"The sample's variants the {name} module scores (modules/{name}_weights.parquet).",
            group_name="annotation",
            skippable=True,
            code_version=MATCHING_CODE_VERSION,
            automation_condition=module_refresh(module_key(name)),
        )
        for name in graph
    ]
    manifest = dg.AssetSpec(
        MODULE_ANNOTATIONS,
        deps=["user_vcf_source", "user_vcf_normalized", *ENSEMBL_SAMPLE_ASSETS, *(s.key for s in per_module)],
        description="Per-module matched variants (`{module}_weights.parquet`) with a testability ledger in "
        "`manifest.json`.",
        group_name="annotation",
        code_version=MATCHING_CODE_VERSION,
        automation_condition=follow_upstream,
    ).with_io_manager_key("sample_io_manager")

    @dg.multi_asset(
        name=MODULE_ANNOTATIONS,
        specs=[*per_module, manifest],
        partitions_def=user_vcf_files_partitions,
        can_subset=True,
        ins={"user_vcf_source": dg.AssetIn(), "user_vcf_normalized": dg.AssetIn()},
        required_resource_keys={MODULES_RESOURCE},
    )
    def user_hf_module_annotations(
        context: dg.AssetExecutionContext,
        config: AnnotateConfig,
        user_vcf_source: dict,
        user_vcf_normalized: SampleArtifact,
    ) -> Iterator[dg.MaterializeResult | dg.Output]:
        """Match the chosen modules against the sample and write its `modules/` folder whole."""
        if dg.AssetKey(MODULE_ANNOTATIONS) not in context.selected_asset_keys:
            raise PipelineError(
                f"per-module results are published with the sample's modules folder: select {MODULE_ANNOTATIONS} too"
            )
        modules_source: ModulesSource = getattr(context.resources, MODULES_RESOURCE)
        resolved = modules_source.resolve()
        available, refused = runnable_modules(resolved.root)
        plan = _plan(context, config, available, refused, graph)
        with ResourceTracker() as tracker, staging_dir() as staging:
            summaries, fill, filled = _annotate(
                context, config, plan, resolved.root, user_vcf_source, user_vcf_normalized, staging
            )
        usage = tracker.usage
        for name in graph:
            if name in plan.run and sample_module_key(name) in context.selected_asset_keys:
                yield _module_result(name, summaries[name])
        facts = user_vcf_normalized.facts
        record = build_manifest(
            partition_key=context.partition_key,
            run_id=context.run_id,
            engine=config.engine,
            source_facts=user_vcf_source,
            normalized_facts=facts,
            confident_regions=Path(config.confident_regions) if config.confident_regions else None,
            modules_source={
                "kind": resolved.kind,
                "label": resolved.label,
                "root": str(resolved.root),
                "revision": resolved.revision,
            },
            modules=summaries,
            duration_s=usage.duration_s,
            peak_rss_mb=usage.peak_rss_mb,
        )
        record["rsid_fill"] = (
            {"source": fill.source, "revision": fill.revision, "records_filled": filled.filled_records}
            if fill is not None and filled is not None
            else None
        )
        record["carried_over"] = sorted(plan.carried)
        # Modules the source holds that this version cannot run (an unreadable or unknown table layout): the
        # report and the command say so, rather than leave them out without a word.
        record["modules_not_run"] = dict(sorted(refused.items()))
        atomic_write_text(staging / MANIFEST_FILE, json.dumps(record, indent=2, sort_keys=True))
        yield dg.Output(
            SampleArtifact(staging, record),
            output_name=dg.AssetKey(MODULE_ANNOTATIONS).to_python_identifier(),
            metadata={
                "modules": dg.MetadataValue.json({n: s["status"] for n, s in summaries.items()}),
                "module_versions": dg.MetadataValue.json(
                    {n: f"{s.get('version')} {str(s.get('sha256'))[:12]}" for n, s in summaries.items()}
                ),
                "matched_variants": sum(int(s.get("matched", 0)) for s in summaries.values()),
                "modules_source": resolved.label,
                "carried_over": dg.MetadataValue.json(sorted(plan.carried)),
                "duration_s": dg.MetadataValue.float(usage.duration_s),
                "cpu_percent": dg.MetadataValue.float(usage.cpu_percent),
                "peak_rss_mb": dg.MetadataValue.float(usage.peak_rss_mb),
            },
        )

    return user_hf_module_annotations


def _annotate(
    context: dg.AssetExecutionContext,
    config: AnnotateConfig,
    plan: RefreshPlan,
    modules_root: Path,
    user_vcf_source: dict,
    user_vcf_normalized: SampleArtifact,
    staging: Path,
) -> "tuple[dict[str, dict[str, Any]], EnsemblFill | None, FillResult | None]":
    """Run the plan into `staging`: fresh results for `plan.run`, copies for `plan.carried`; return summaries."""
    facts = user_vcf_normalized.facts
    confident = Path(config.confident_regions) if config.confident_regions else None
    sample = context_from_facts(user_vcf_normalized.path, facts, confident)
    if sample.genome_build == "GRCh37" and sample.chain is not None:
        context.log.info(f"module sites lifted from GRCh38 to GRCh37 with {sample.chain.path.name}")
    if confident is not None and sample.genome_build != "GRCh38":
        context.log.warning(
            "the confident-regions BED is not used: on a non-GRCh38 input the reference base at a lifted "
            "module site is not known, so absence is not read as homozygous reference"
        )
    fill = sample_fill(context.partition_key, user_vcf_source["sha256"]) if config.use_ensembl_rsids else None
    if sample.genome_build != "GRCh38":
        fill = None  # the reference is GRCh38 (and refuses other builds anyway)
    if plan.carried:
        context.log.info(f"re-annotating {', '.join(plan.run)}; kept as they were: {', '.join(plan.carried)}")

    def report_module(name: str, summary: dict) -> None:
        matched = summary["matched"]
        context.log.info(
            f"module {name}: {summary['status']}, {matched:,} matched variant{'s' * (matched != 1)}"
        )

    results = get_settings().sample_output_dir(*parse_partition_key(context.partition_key)) / "modules"
    with tempfile.TemporaryDirectory(dir=staging_root()) as scratch:
        filled: FillResult | None = None
        if fill is not None:
            filled = apply_rsid_fill(sample.calls_path, fill.path, Path(scratch) / "calls.parquet")
            sample = dataclasses.replace(
                sample, calls_path=filled.calls_path, has_rsids=sample.has_rsids or filled.filled_records > 0
            )
            context.log.info(
                f"{filled.filled_records:,} records got an rsID from the Ensembl reference ({fill.revision[:12]})"
            )
        fresh = annotate_sample(
            sample, modules_root, plan.run, staging, engine=config.engine, on_module_done=report_module
        )
    for name, summary in fresh.items():
        summary.update(module_provenance(modules_root / name))
        if filled is not None and summary.get("status") == "done":
            matched = pl.read_parquet(staging / summary["output"])
            summary["matched_via_filled_rsid"] = matches_via_filled_rsids(
                matched, rsid_only_sites(modules_root / name), filled.filled_rsids
            )
    for summary in plan.carried.values():
        shutil.copy2(results / summary["output"], staging / summary["output"])
    summaries = {name: plan.carried.get(name) or fresh[name] for name in plan.modules}
    return summaries, fill, filled

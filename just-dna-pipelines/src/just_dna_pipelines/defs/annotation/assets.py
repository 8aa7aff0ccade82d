"""The annotation assets: the uploaded VCF, its normalized form, the module dataset, module annotations."""

import dataclasses
import json
import tempfile
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from just_dna_pipelines.annotation.manifest import build_manifest, module_provenance
from just_dna_pipelines.annotation.pipeline import SampleContext, annotate_sample
from just_dna_pipelines.annotation.sites import module_positions
from just_dna_pipelines.defs.annotation.configs import AnnotateConfig, NormalizeConfig, VcfSourceConfig
from just_dna_pipelines.defs.annotation.io_managers import (
    MANIFEST_FILE,
    SampleArtifact,
    staging_dir,
    staging_root,
)
from just_dna_pipelines.defs.annotation.partitions import user_vcf_files_partitions
from just_dna_pipelines.defs.annotation.resources import ModulesSource
from just_dna_pipelines.defs.annotation.tracking import tracked
from just_dna_pipelines.ensembl.annotate import EnsemblFill, current_fill
from just_dna_pipelines.ensembl.rsid_fill import (
    FillResult,
    apply_rsid_fill,
    matches_via_filled_rsids,
    positions_of_rsids,
    rsid_only_sites,
)
from just_dna_pipelines.io.atomic import atomic_write_text
from just_dna_pipelines.io.vcf_normalize import normalize_vcf
from just_dna_pipelines.io.vcf_source import describe_vcf_source
from just_dna_pipelines.keys import parse_partition_key
from just_dna_pipelines.modules.registry import choose_modules
from just_dna_pipelines.modules.sources import module_dirs
from just_dna_pipelines.settings import get_settings
from just_dna_pipelines.uploads import find_user_vcf

# The Ensembl annotation of a sample (either engine) can fill its missing rsIDs for module matching.
ENSEMBL_SAMPLE_ASSETS = [dg.AssetKey("user_annotated_vcf"), dg.AssetKey("user_annotated_vcf_duckdb")]


def sample_fill(partition_key: str, source_sha256: str) -> EnsemblFill | None:
    """The sample's Ensembl rsID fill, when one was made from this very VCF."""
    return current_fill(get_settings().sample_output_dir(*parse_partition_key(partition_key)), source_sha256)


hf_annotators_dataset = dg.AssetSpec(
    "hf_annotators_dataset",
    description="Annotation modules (weights, annotations, studies as Parquet) from the configured source: "
    "the Hugging Face dataset just-dna-seq/annotators, a local folder, or the demo set.",
    group_name="modules",
)


@dg.asset(
    partitions_def=user_vcf_files_partitions, io_manager_key="sample_io_manager", group_name="annotation"
)
def user_vcf_source(context: dg.AssetExecutionContext, config: VcfSourceConfig) -> dict:
    """The uploaded VCF of a user/sample: its identity (SHA-256, size) and header facts."""
    user, sample = parse_partition_key(context.partition_key)
    with tracked(context):
        path = Path(config.vcf_path) if config.vcf_path else find_user_vcf(user, sample)
        facts = describe_vcf_source(path)
    context.add_output_metadata(
        {
            "file_name": facts["file_name"],
            "sha256": facts["sha256"],
            "samples": ", ".join(facts["samples"]) or "(none)",
            "genome_build": facts["genome_build"],
            "contig_naming": facts["contig_naming"],
            "is_gvcf": facts["is_gvcf"],
        }
    )
    for warning in facts["warnings"]:
        context.log.warning(warning)
    return facts


@dg.asset(
    partitions_def=user_vcf_files_partitions, io_manager_key="sample_io_manager", group_name="annotation"
)
def user_vcf_normalized(
    context: dg.AssetExecutionContext,
    config: NormalizeConfig,
    modules_source: ModulesSource,
    user_vcf_source: dict,
) -> SampleArtifact:
    """One sample's calls as Parquet: chrom without chr, 1-based start, ref, alts, rsid, genotype, zygosity, filters.

    An indexed bgzipped VCF/BCF is read at the module sites only (read_mode "auto"), every record otherwise.
    """
    with tracked(context), staging_dir() as staging:
        sites = None
        if config.read_mode == "auto":
            folders = module_dirs(modules_source.resolve().root)
            sites = module_positions(folders)
            fill = sample_fill(context.partition_key, user_vcf_source["sha256"])
            if fill is not None:  # rsID-only module sites whose position the reference told
                rsids = set().union(*(rsid_only_sites(folder) for folder in folders))
                sites = pl.concat([sites, positions_of_rsids(fill.path, rsids)]).unique()
        result = normalize_vcf(
            Path(user_vcf_source["path"]),
            staging / "variants.parquet",
            sample_column=config.sample_column,
            filters=config.filters(),
            sites=sites,
        )
        has_rsids = bool(
            pl.scan_parquet(result.output).select(pl.col("rsid").is_not_null().any()).collect().item()
        )
    header = result.header
    facts: dict[str, Any] = {
        "sample_column": result.sample_column,
        "samples": header.samples,
        "records": result.records,
        "records_passing": result.records_passing,
        "no_calls": result.no_calls,
        "ref_blocks": result.ref_blocks,
        "genome_build": header.genome_build,
        "contig_naming": header.contig_naming,
        "is_gvcf": header.is_gvcf,
        "has_rsids": has_rsids,
        "filters": result.filters.describe(),
        "warnings": header.warnings,
        "read_mode": result.mode,
        "chromosomes": result.chromosomes,
    }
    read = (
        f"{result.records} records, {result.records_passing} pass the filters"
        if result.mode == "full"
        else f"{result.records} records (index); read the module sites only through the index"
    )
    context.log.info(
        f"sample column {result.sample_column!r} of {len(header.samples)}; {read}; build {header.genome_build}"
    )
    context.add_output_metadata(
        {
            key: value
            for key, value in facts.items()
            if key not in {"samples", "filters", "warnings", "chromosomes"}
        }
        | {"filters": dg.MetadataValue.json(facts["filters"])}
    )
    return SampleArtifact(result.output, facts)


@dg.asset(
    partitions_def=user_vcf_files_partitions,
    io_manager_key="sample_io_manager",
    group_name="annotation",
    deps=[hf_annotators_dataset, *ENSEMBL_SAMPLE_ASSETS],
)
def user_hf_module_annotations(
    context: dg.AssetExecutionContext,
    config: AnnotateConfig,
    modules_source: ModulesSource,
    user_vcf_source: dict,
    user_vcf_normalized: SampleArtifact,
) -> SampleArtifact:
    """Per-module matched variants (`{module}_weights.parquet`) with a testability ledger in `manifest.json`."""
    resolved = modules_source.resolve()
    chosen = choose_modules([folder.name for folder in module_dirs(resolved.root)], config.modules)
    facts = user_vcf_normalized.facts
    confident = Path(config.confident_regions) if config.confident_regions else None
    sample = SampleContext(
        calls_path=user_vcf_normalized.path,
        genome_build=facts["genome_build"],
        has_rsids=facts["has_rsids"],
        is_gvcf=facts["is_gvcf"],
        confident_regions=confident,
        chromosomes=facts.get("chromosomes"),
    )
    if sample.genome_build == "GRCh37":
        context.log.warning(
            "the VCF is GRCh37 but module positions are GRCh38: matching by position is refused; "
            + (
                "rsIDs are used instead"
                if sample.has_rsids
                else "the VCF has no rsIDs, so no site can be tested"
            )
        )

    def report_module(name: str, summary: dict) -> None:
        context.log.info(f"module {name}: {summary['status']}, {summary['matched']} matched variants")

    fill = sample_fill(context.partition_key, user_vcf_source["sha256"]) if config.use_ensembl_rsids else None
    if sample.genome_build == "GRCh37":
        fill = None  # the reference is GRCh38 (and refuses GRCh37 input anyway)
    with (
        tracked(context) as tracker,
        staging_dir() as staging,
        tempfile.TemporaryDirectory(dir=staging_root()) as scratch,
    ):
        filled: FillResult | None = None
        if fill is not None:
            filled = apply_rsid_fill(sample.calls_path, fill.path, Path(scratch) / "calls.parquet")
            sample = dataclasses.replace(
                sample, calls_path=filled.calls_path, has_rsids=sample.has_rsids or filled.filled_records > 0
            )
            context.log.info(
                f"{filled.filled_records:,} records got an rsID from the Ensembl reference ({fill.revision[:12]})"
            )
        summaries = annotate_sample(
            sample, resolved.root, chosen, staging, engine=config.engine, on_module_done=report_module
        )
        for name, summary in summaries.items():
            summary.update(module_provenance(resolved.root / name))
            if filled is not None and summary.get("status") == "done":
                matched = pl.read_parquet(staging / summary["output"])
                via = matches_via_filled_rsids(
                    matched, rsid_only_sites(resolved.root / name), filled.filled_rsids
                )
                summary["matched_via_filled_rsid"] = via
    manifest = build_manifest(
        partition_key=context.partition_key,
        run_id=context.run_id,
        engine=config.engine,
        source_facts=user_vcf_source,
        normalized_facts=facts,
        confident_regions=confident,
        modules_source={
            "kind": resolved.kind,
            "label": resolved.label,
            "root": str(resolved.root),
            "revision": resolved.revision,
        },
        modules=summaries,
        duration_s=tracker.usage.duration_s,
        peak_rss_mb=tracker.usage.peak_rss_mb,
    )
    manifest["rsid_fill"] = (
        {
            "source": fill.source,
            "revision": fill.revision,
            "records_filled": filled.filled_records,
        }
        if fill is not None and filled is not None
        else None
    )
    atomic_write_text(staging / MANIFEST_FILE, json.dumps(manifest, indent=2, sort_keys=True))
    context.add_output_metadata(
        {
            "modules": dg.MetadataValue.json({n: s["status"] for n, s in summaries.items()}),
            "matched_variants": sum(int(s.get("matched", 0)) for s in summaries.values()),
            "modules_source": resolved.label,
        }
    )
    return SampleArtifact(staging, manifest)

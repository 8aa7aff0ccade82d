"""The annotation assets: the uploaded VCF, its normalized form, the module dataset, module annotations."""

import json
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from just_dna_pipelines.annotation.manifest import build_manifest, module_provenance
from just_dna_pipelines.annotation.pipeline import SampleContext, annotate_sample
from just_dna_pipelines.annotation.sites import module_positions
from just_dna_pipelines.defs.annotation.configs import AnnotateConfig, NormalizeConfig, VcfSourceConfig
from just_dna_pipelines.defs.annotation.io_managers import MANIFEST_FILE, SampleArtifact, staging_dir
from just_dna_pipelines.defs.annotation.partitions import user_vcf_files_partitions
from just_dna_pipelines.defs.annotation.resources import ModulesSource
from just_dna_pipelines.defs.annotation.tracking import tracked
from just_dna_pipelines.io.atomic import atomic_write_text
from just_dna_pipelines.io.vcf_normalize import normalize_vcf
from just_dna_pipelines.io.vcf_source import describe_vcf_source
from just_dna_pipelines.keys import parse_partition_key
from just_dna_pipelines.modules.registry import choose_modules
from just_dna_pipelines.modules.sources import module_dirs
from just_dna_pipelines.uploads import find_user_vcf

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
            sites = module_positions(module_dirs(modules_source.resolve().root))
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
        "is_gvcf": result.is_gvcf,
        "has_rsids": has_rsids,
        "malformed_records": result.malformed_records,
        "filters": result.filters.describe(),
        "warnings": result.warnings,
        "read_mode": result.mode,
        "chromosomes": result.chromosomes,
    }
    read = (
        f"{result.records} records, {result.records_passing} pass the filters"
        if result.mode == "full"
        else f"{result.records} records (index); read the module sites only through the index"
    )
    context.log.info(
        f"sample column {result.sample_column} of {len(header.samples)}; {read}; build {header.genome_build}"
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
    deps=[hf_annotators_dataset],
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

    with tracked(context) as tracker, staging_dir() as staging:
        summaries = annotate_sample(
            sample, resolved.root, chosen, staging, engine=config.engine, on_module_done=report_module
        )
        for name, summary in summaries.items():
            summary.update(module_provenance(resolved.root / name))
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
    # Damaged records skipped while reading: the report's input facts can show them (0 when none).
    manifest["input"]["malformed_records"] = int(facts.get("malformed_records", 0))
    atomic_write_text(staging / MANIFEST_FILE, json.dumps(manifest, indent=2, sort_keys=True))
    context.add_output_metadata(
        {
            "modules": dg.MetadataValue.json({n: s["status"] for n, s in summaries.items()}),
            "matched_variants": sum(int(s.get("matched", 0)) for s in summaries.values()),
            "modules_source": resolved.label,
        }
    )
    return SampleArtifact(staging, manifest)

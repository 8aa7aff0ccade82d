"""The sample assets upstream of annotation: the uploaded VCF and its normalized calls."""

from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from just_dna_pipelines.annotation.sites import module_positions
from just_dna_pipelines.defs.annotation.configs import NormalizeConfig, VcfSourceConfig
from just_dna_pipelines.defs.annotation.io_managers import SampleArtifact, staging_dir
from just_dna_pipelines.defs.annotation.module_annotations import sample_fill
from just_dna_pipelines.defs.annotation.partitions import user_vcf_files_partitions
from just_dna_pipelines.defs.annotation.resources import ModulesSource
from just_dna_pipelines.defs.annotation.tracking import tracked
from just_dna_pipelines.ensembl.rsid_fill import positions_of_rsids, rsid_only_sites
from just_dna_pipelines.io.vcf_normalize import normalize_vcf
from just_dna_pipelines.io.vcf_source import describe_vcf_source
from just_dna_pipelines.keys import parse_partition_key
from just_dna_pipelines.modules.sources import module_dirs
from just_dna_pipelines.uploads import find_user_vcf


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

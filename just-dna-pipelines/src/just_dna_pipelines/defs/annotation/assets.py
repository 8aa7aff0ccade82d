"""The annotation assets: the uploaded VCF, its normalized form, the module dataset, module annotations."""

import json
from pathlib import Path

import dagster as dg

from just_dna_pipelines.annotation.manifest import build_manifest, module_provenance
from just_dna_pipelines.annotation.pipeline import annotate_sample, context_from_facts
from just_dna_pipelines.annotation.sample_table import normalize_sample
from just_dna_pipelines.annotation.sites import module_site_table
from just_dna_pipelines.defs.annotation.configs import AnnotateConfig, NormalizeConfig, VcfSourceConfig
from just_dna_pipelines.defs.annotation.io_managers import MANIFEST_FILE, SampleArtifact, staging_dir
from just_dna_pipelines.defs.annotation.partitions import user_vcf_files_partitions
from just_dna_pipelines.defs.annotation.resources import ModulesSource
from just_dna_pipelines.defs.annotation.tracking import tracked
from just_dna_pipelines.io.atomic import atomic_write_text
from just_dna_pipelines.io.input_kind import describe_input
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
    """The uploaded genome of a user/sample (VCF, BCF or DNA-test raw file): its identity and header facts."""
    user, sample = parse_partition_key(context.partition_key)
    with tracked(context):
        path = Path(config.vcf_path) if config.vcf_path else find_user_vcf(user, sample)
        facts = describe_input(path)
    context.add_output_metadata(
        {
            "file_name": facts["file_name"],
            "sha256": facts["sha256"],
            "input_kind": facts["input_kind"],
            "vendor": facts.get("vendor") or "",
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

    Any input kind (VCF, BCF, DNA-test raw file) ends in this one table; its facts say the genome build (from
    the header, or decided from the data at the module sites) and whether module sites are lifted to it.
    An indexed bgzipped VCF/BCF is read at the module sites only (read_mode "auto"), every record otherwise.
    """
    with tracked(context), staging_dir() as staging:
        table = normalize_sample(
            Path(user_vcf_source["path"]),
            staging / "variants.parquet",
            module_site_table(module_dirs(modules_source.resolve().root)),
            sample_column=config.sample_column,
            filters=config.filters(),
            read_sites=config.read_mode == "auto",
        )
    facts = table.facts
    build = facts["build"]
    if facts["input_kind"] == "array":
        read = (
            f"{facts['vendor']} array file: {facts['records']} SNPs, call rate {facts['call_rate']:.1%}, "
            f"{facts['indels']} indel calls"
        )
    elif facts["read_mode"] == "full":
        read = f"{facts['records']} records, {facts['records_passing']} pass the filters"
    else:
        read = f"{facts['records']} records (index); read the module sites only through the index"
    context.log.info(f"{read}; build {facts['genome_build']} (decided by {build['source']})")
    for warning in facts["warnings"]:
        context.log.warning(warning)
    context.add_output_metadata(
        {
            key: value
            for key, value in facts.items()
            if key
            not in {
                "samples",
                "filters",
                "warnings",
                "chromosomes",
                "build",
                "liftover",
                "vendor",
                "sample_column",
            }
        }
        | {
            "filters": dg.MetadataValue.json(facts["filters"]),
            "build": dg.MetadataValue.json(build),
            "liftover": dg.MetadataValue.json(facts["liftover"]),
            "vendor": facts.get("vendor") or "",
            "sample_column": facts.get("sample_column") or "",
        }
    )
    return SampleArtifact(table.path, facts)


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
    sample = context_from_facts(user_vcf_normalized.path, facts, confident)
    if sample.genome_build == "GRCh37" and sample.chain is not None:
        context.log.info(f"module sites lifted from GRCh38 to GRCh37 with {sample.chain.path.name}")
    if confident is not None and sample.genome_build != "GRCh38":
        context.log.warning(
            "the confident-regions BED is not used: on a non-GRCh38 input the reference base at a lifted "
            "module site is not known, so absence is not read as homozygous reference"
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
    atomic_write_text(staging / MANIFEST_FILE, json.dumps(manifest, indent=2, sort_keys=True))
    context.add_output_metadata(
        {
            "modules": dg.MetadataValue.json({n: s["status"] for n, s in summaries.items()}),
            "matched_variants": sum(int(s.get("matched", 0)) for s in summaries.values()),
            "modules_source": resolved.label,
        }
    )
    return SampleArtifact(staging, manifest)

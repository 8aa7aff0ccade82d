"""The Ensembl assets: the local reference cache, and each sample's variants annotated from it."""

import json
from pathlib import Path

import dagster as dg

from just_dna_pipelines.defs.annotation.io_managers import SampleArtifact, staging_dir
from just_dna_pipelines.defs.annotation.partitions import user_vcf_files_partitions
from just_dna_pipelines.defs.annotation.tracking import tracked
from just_dna_pipelines.defs.automation import ensembl_refresh, reference_refresh
from just_dna_pipelines.defs.ensembl.configs import EnsemblAnnotateConfig, ReferenceConfig
from just_dna_pipelines.defs.ensembl.resources import PROGRESS_RESOURCE, EnsemblSource
from just_dna_pipelines.defs.ensembl.sources import ENSEMBL_SOURCE_RESOURCE, ensembl_hf_dataset
from just_dna_pipelines.ensembl.annotate import MANIFEST_FILE, VcfOptions, annotate_with_ensembl, check_build
from just_dna_pipelines.ensembl.engine_duckdb import machine_limits
from just_dna_pipelines.ensembl.layout import parse_contigs
from just_dna_pipelines.ensembl.needs import contigs_needed, sample_contigs
from just_dna_pipelines.errors import EnsemblError
from just_dna_pipelines.io.atomic import atomic_write_text
from just_dna_pipelines.io.vcf_header import read_vcf_header
from just_dna_pipelines.settings import get_settings

# Bump when the join rules or outputs change: Dagster then marks every annotated sample stale.
ENSEMBL_CODE_VERSION = "1"


@dg.asset(
    deps=[ensembl_hf_dataset],
    group_name="references",
    required_resource_keys={ENSEMBL_SOURCE_RESOURCE, PROGRESS_RESOURCE},
    code_version="1",
    kinds={"parquet"},
    automation_condition=reference_refresh,
)
def ensembl_annotations(context: dg.AssetExecutionContext, config: ReferenceConfig) -> dg.MaterializeResult:
    """The Ensembl reference in the local cache: the contigs asked for (default: those the samples need), verified."""
    resource: EnsemblSource = getattr(context.resources, ENSEMBL_SOURCE_RESOURCE)
    if config.all_contigs:
        contigs = None
    elif config.contigs:
        contigs = parse_contigs(config.contigs)
    else:
        contigs = contigs_needed(get_settings().output_dir)
        if not contigs:
            context.log.info("no sample needs a contig yet: only the revision is resolved")
    with tracked(context):
        reference = resource.reference(
            contigs, update=config.update, on_progress=getattr(context.resources, PROGRESS_RESOURCE)
        )
        facts = reference.facts()
    if reference.downloaded:
        context.log.info(f"downloaded {', '.join('chr' + c for c in reference.downloaded)}")
    if reference.offline:
        context.log.warning(f"offline: using the cached revision {reference.revision}")
    return dg.MaterializeResult(
        data_version=dg.DataVersion(reference.revision),
        metadata={
            "source": facts["source"],
            "revision": facts["revision"],
            "files": dg.MetadataValue.json(facts["files"]),
            "bytes": facts["bytes"],
            "rows": facts["rows"],
            "downloaded": dg.MetadataValue.json(reference.downloaded),
            "offline": reference.offline,
        },
    )


def _annotate_sample(
    context: dg.AssetExecutionContext,
    engine: str,
    config: EnsemblAnnotateConfig,
    user_vcf_source: dict,
    user_vcf_normalized: SampleArtifact,
) -> SampleArtifact:
    """Join one sample to the reference with `engine`; the outputs go to `ensembl/` whole or not at all."""
    facts = user_vcf_normalized.facts
    check_build(facts["genome_build"])
    if facts.get("read_mode", "full") != "full":
        raise EnsemblError(
            "the normalized calls hold the module sites only; annotate with the reference after a full read "
            "(read_mode full)"
        )
    resource: EnsemblSource = getattr(context.resources, ENSEMBL_SOURCE_RESOURCE)
    settings = get_settings()
    header = read_vcf_header(Path(user_vcf_source["path"]))
    with tracked(context) as tracker, staging_dir() as staging:
        reference = resource.reference(sample_contigs(user_vcf_normalized.path))
        limits = machine_limits(
            settings.ensembl_cache_dir / "duckdb-spill",
            settings.duckdb_memory_fraction,
            settings.duckdb_threads_fraction,
            memory_limit=config.memory_limit,
            threads=config.threads,
        )
        vcf = (
            VcfOptions(facts["sample_column"], header.contigs, header.contig_naming)
            if config.write_vcf
            else None
        )
        outputs = annotate_with_ensembl(
            user_vcf_normalized.path, reference, staging, engine=engine, duckdb_limits=limits, vcf=vcf
        )
    manifest = {
        "partition_key": context.partition_key,
        "run_id": context.run_id,
        "input": {"file_name": user_vcf_source["file_name"], "sha256": user_vcf_source["sha256"]},
        **outputs,
        "duration_s": tracker.usage.duration_s,
        "peak_rss_mb": tracker.usage.peak_rss_mb,
    }
    atomic_write_text(staging / MANIFEST_FILE, json.dumps(manifest, indent=2, sort_keys=True))
    context.log.info(
        f"{engine}: {outputs['rows']:,} alleles of {outputs['records']:,} records, {outputs['rows_annotated']:,} "
        f"in the reference ({reference.source} at {reference.revision[:12]}), {outputs['rsids_filled']:,} rsIDs filled"
    )
    context.add_output_metadata(
        {
            "engine": engine,
            "reference_source": reference.source,
            "reference_revision": reference.revision,
            "records": outputs["records"],
            "rows": outputs["rows"],
            "rows_annotated": outputs["rows_annotated"],
            "rsids_filled": outputs["rsids_filled"],
            "variants_per_second": outputs["variants_per_second"] or 0,
        }
    )
    return SampleArtifact(staging, manifest)


def _engine_asset(name: str, engine: str, label: str) -> dg.AssetsDefinition:
    """The per-sample annotation asset of one engine (both write the same `ensembl/` folder)."""

    @dg.asset(
        name=name,
        partitions_def=user_vcf_files_partitions,
        io_manager_key="sample_io_manager",
        group_name="ensembl",
        deps=[ensembl_annotations],
        required_resource_keys={ENSEMBL_SOURCE_RESOURCE},
        code_version=ENSEMBL_CODE_VERSION,
        kinds={engine, "parquet"},
        automation_condition=ensembl_refresh,
        description=f"The sample's variants annotated from the Ensembl reference by {label} "
        "(`ensembl/annotated.parquet`, `annotated.vcf.gz` + `.tbi`, the rsID fill).",
    )
    def annotated(
        context: dg.AssetExecutionContext,
        config: EnsemblAnnotateConfig,
        user_vcf_source: dict,
        user_vcf_normalized: SampleArtifact,
    ) -> SampleArtifact:
        return _annotate_sample(context, engine, config, user_vcf_source, user_vcf_normalized)

    return annotated


user_annotated_vcf = _engine_asset("user_annotated_vcf", "polars", "Polars")
user_annotated_vcf_duckdb = _engine_asset("user_annotated_vcf_duckdb", "duckdb", "DuckDB")

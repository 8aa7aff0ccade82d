"""The sample assets upstream of annotation: the uploaded VCF and its normalized calls."""

from pathlib import Path

import dagster as dg

from just_dna_pipelines.annotation.normalize_ahead import discard as discard_normalized_ahead
from just_dna_pipelines.annotation.normalize_ahead import request_for, take_normalized_ahead
from just_dna_pipelines.annotation.sample_table import normalize_sample
from just_dna_pipelines.annotation.sites import module_site_table
from just_dna_pipelines.defs.annotation.configs import NormalizeConfig, VcfSourceConfig
from just_dna_pipelines.defs.annotation.io_managers import SampleArtifact, staging_dir
from just_dna_pipelines.defs.annotation.module_annotations import sample_fill
from just_dna_pipelines.defs.annotation.partitions import user_vcf_files_partitions
from just_dna_pipelines.defs.annotation.resources import ModulesSource
from just_dna_pipelines.defs.annotation.tracking import tracked
from just_dna_pipelines.ensembl.rsid_fill import positions_of_rsids, rsid_only_sites
from just_dna_pipelines.errors import ModuleSourceError
from just_dna_pipelines.io.input_kind import describe_input
from just_dna_pipelines.keys import parse_partition_key
from just_dna_pipelines.modules.sources import module_dirs
from just_dna_pipelines.uploads import find_user_vcf


def _module_folders(modules_source: ModulesSource, needed: bool) -> tuple[Path | None, list[Path]]:
    """The modules' root and the module folders whose sites are read and checked against; none when
    unreachable and not needed.

    A run without modules (Ensembl only, read in full) must not fail because the module source is offline;
    the build is then taken from the header alone.
    """
    try:
        root = modules_source.resolve().root
        return root, module_dirs(root)
    except ModuleSourceError:
        if needed:
            raise
        return None, []


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
        read_sites = config.read_mode == "auto"
        root, folders = _module_folders(modules_source, needed=read_sites)
        extra_sites = None
        fill = sample_fill(context.partition_key, user_vcf_source["sha256"])
        if fill is not None and read_sites:  # rsID-only module sites the reference placed
            rsids = set().union(*(rsid_only_sites(folder) for folder in folders))
            extra_sites = positions_of_rsids(fill.path, rsids)
        path, sites = Path(user_vcf_source["path"]), module_site_table(folders)
        output = staging / "variants.parquet"
        ahead = None
        if root is not None:  # what `pipelines annotate-modules` started ahead, if it did
            filters = config.filters()
            asked = request_for(
                path, root, sample_column=config.sample_column, filters=filters, read_sites=read_sites
            )
            if extra_sites is None:
                ahead = take_normalized_ahead(asked, sites, output)
            else:
                discard_normalized_ahead(asked)  # read at other sites: its work is not this step's
            if ahead is not None:
                context.log.debug("the table was normalized ahead by the command, on the other core")
        table = ahead or normalize_sample(
            path,
            output,
            sites,
            sample_column=config.sample_column,
            filters=config.filters(),
            read_sites=read_sites,
            extra_read_sites=extra_sites,
        )
    facts = table.facts
    build = facts["build"]
    if facts["input_kind"] == "array":
        read = (
            f"{facts['vendor']} array file: {facts['records']:,} SNPs, call rate {facts['call_rate']:.1%}, "
            f"{facts['indels']:,} indel calls"
        )
    elif facts["read_mode"] == "full":
        read = f"{facts['records']:,} records, {facts['records_passing']:,} pass the filters"
    else:
        how = "counted in one pass" if facts.get("site_reader") == "scan" else "from the index"
        read = f"{facts['records']:,} records ({how}); only the records at the module sites were read"
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

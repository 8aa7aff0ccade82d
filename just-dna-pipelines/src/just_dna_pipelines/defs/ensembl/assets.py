"""The Ensembl assets: the local reference cache, and each sample's variants annotated from it."""

import dagster as dg

from just_dna_pipelines.defs.annotation.tracking import tracked
from just_dna_pipelines.defs.ensembl.configs import ReferenceConfig
from just_dna_pipelines.defs.ensembl.resources import PROGRESS_RESOURCE, EnsemblSource
from just_dna_pipelines.defs.ensembl.sources import ENSEMBL_SOURCE_RESOURCE, ensembl_hf_dataset
from just_dna_pipelines.ensembl.layout import parse_contigs
from just_dna_pipelines.ensembl.needs import contigs_needed
from just_dna_pipelines.settings import get_settings


@dg.asset(
    deps=[ensembl_hf_dataset],
    group_name="references",
    required_resource_keys={ENSEMBL_SOURCE_RESOURCE, PROGRESS_RESOURCE},
    code_version="1",
    kinds={"parquet"},
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

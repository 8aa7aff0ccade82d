"""The Ensembl reference as an external asset: observed, its data version is the dataset's revision."""

import warnings

import dagster as dg

from just_dna_pipelines.defs.automation import observe_hourly
from just_dna_pipelines.defs.ensembl.resources import EnsemblSource
from just_dna_pipelines.ensembl.cache import observe_revision

ENSEMBL_SOURCE_RESOURCE = "ensembl_source"


def observe_ensembl_dataset(context: dg.OpExecutionContext) -> dg.ObserveResult:
    """Observe the reference's current revision (the cached one when offline)."""
    resource: EnsemblSource = getattr(context.resources, ENSEMBL_SOURCE_RESOURCE)
    observed = observe_revision(resource.source or None)
    return dg.ObserveResult(
        data_version=dg.DataVersion(observed.revision),
        metadata={"source": observed.source, "revision": observed.revision, "offline": observed.offline},
    )


with warnings.catch_warnings():
    # Observable source assets are beta in Dagster 1.13; the warning would print on every CLI start.
    warnings.simplefilter("ignore", dg.BetaWarning)
    ensembl_hf_dataset = dg.observable_source_asset(
        name="ensembl_hf_dataset",
        group_name="references",
        required_resource_keys={ENSEMBL_SOURCE_RESOURCE},
        automation_condition=observe_hourly,  # like the module sources: when the reannotation sensor runs
        description="The Ensembl variation reference (Hugging Face dataset just-dna-seq/ensembl_variations, "
        "or a local folder in its layout); its data version is the dataset's revision.",
    )(observe_ensembl_dataset)

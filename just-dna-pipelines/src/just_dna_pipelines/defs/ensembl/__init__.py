"""Dagster definitions for Ensembl variant annotation."""

import dagster as dg

from just_dna_pipelines.defs.ensembl.assets import (
    ensembl_annotations,
    user_annotated_vcf,
    user_annotated_vcf_duckdb,
)
from just_dna_pipelines.defs.ensembl.jobs import download_ensembl_job
from just_dna_pipelines.defs.ensembl.resources import PROGRESS_RESOURCE, EnsemblSource, no_progress
from just_dna_pipelines.defs.ensembl.sources import ENSEMBL_SOURCE_RESOURCE, ensembl_hf_dataset


def ensembl_definitions() -> dg.Definitions:
    """The reference (external + cached), the per-sample annotation assets, their jobs and resources."""
    return dg.Definitions(
        assets=[ensembl_hf_dataset, ensembl_annotations, user_annotated_vcf, user_annotated_vcf_duckdb],
        jobs=[download_ensembl_job],
        resources={
            ENSEMBL_SOURCE_RESOURCE: EnsemblSource(),
            PROGRESS_RESOURCE: dg.ResourceDefinition.hardcoded_resource(no_progress),
        },
    )

"""Jobs that span features: annotation plus report."""

from typing import Any

import dagster as dg

from just_dna_pipelines.defs.annotation import annotation_definitions
from just_dna_pipelines.defs.annotation.jobs import ANNOTATION_SELECTION
from just_dna_pipelines.defs.annotation.partitions import user_vcf_files_partitions
from just_dna_pipelines.defs.report import report_definitions

REPORT_ASSET = "user_longevity_report"

generate_longevity_report_job = dg.define_asset_job(
    "generate_longevity_report_job",
    selection=dg.AssetSelection.assets(REPORT_ASSET),
    partitions_def=user_vcf_files_partitions,
    description="Render the longevity report from a sample's existing module annotations.",
)

ENSEMBL_ASSETS = ("user_annotated_vcf", "user_annotated_vcf_duckdb")

annotate_sample_job = dg.define_asset_job(
    "annotate_sample_job",
    selection=ANNOTATION_SELECTION | dg.AssetSelection.assets(*ENSEMBL_ASSETS, REPORT_ASSET),
    partitions_def=user_vcf_files_partitions,
    description="Every per-sample asset: normalize, annotate with modules and/or the Ensembl reference (one "
    "engine), report. A run selects the subset it needs.",
)

annotate_and_report_job = dg.define_asset_job(
    "annotate_and_report_job",
    selection=ANNOTATION_SELECTION | dg.AssetSelection.assets(REPORT_ASSET),
    partitions_def=user_vcf_files_partitions,
    description="Normalize, annotate with the chosen modules, and render the longevity report, in one run.",
)


def observe_sources_job(module_keys: list[dg.AssetKey]) -> Any:
    """A job that looks at the module source, each module and the Ensembl reference now."""
    return dg.define_asset_job(
        "observe_sources_job",
        selection=dg.AssetSelection.assets("hf_annotators_dataset", "ensembl_hf_dataset", *module_keys),
        description="Record the current revisions of the module source, each module and the Ensembl "
        "reference (the automation does this hourly when it is on).",
    )


def sample_definitions(module_names: list[str]) -> dg.Definitions:
    """A sample's module annotation and report (assets, IO manager, resources, their two jobs, the drop-folder
    sensor): all a command-line run needs, so it skips loading the BAM, Ensembl and automation definitions."""
    return dg.Definitions.merge(
        annotation_definitions(module_names),
        report_definitions(),
        dg.Definitions(jobs=[annotate_and_report_job]),
    )

"""Dagster definitions for VCF ingestion and module annotation."""

import dagster as dg

from just_dna_pipelines.defs.annotation.assets import user_vcf_normalized, user_vcf_source
from just_dna_pipelines.defs.annotation.io_managers import SampleStorageIOManager
from just_dna_pipelines.defs.annotation.jobs import annotate_with_hf_modules_job
from just_dna_pipelines.defs.annotation.module_annotations import build_module_annotations
from just_dna_pipelines.defs.annotation.module_sources import hf_annotators_dataset, module_bundle
from just_dna_pipelines.defs.annotation.resources import ModulesSource
from just_dna_pipelines.defs.annotation.sensors import build_user_vcf_sensor


def annotation_definitions(module_names: list[str]) -> dg.Definitions:
    """The annotation assets (one bundle per module in `module_names`), job, sensor and resources."""
    return dg.Definitions.merge(
        dg.Definitions(
            assets=[
                hf_annotators_dataset,
                user_vcf_source,
                user_vcf_normalized,
                build_module_annotations(module_names),
            ],
            jobs=[annotate_with_hf_modules_job],
            sensors=[build_user_vcf_sensor("annotate_and_report_job")],
            resources={
                "sample_io_manager": SampleStorageIOManager(),
                "modules_source": ModulesSource(),
            },
        ),
        *(module_bundle(name) for name in module_names),
    )

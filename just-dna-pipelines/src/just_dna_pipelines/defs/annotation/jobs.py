"""Jobs over the per-sample assets."""

import dagster as dg

from just_dna_pipelines.defs.annotation.partitions import user_vcf_files_partitions

ANNOTATION_ASSETS = ("user_vcf_source", "user_vcf_normalized", "user_hf_module_annotations")

annotate_with_hf_modules_job = dg.define_asset_job(
    "annotate_with_hf_modules_job",
    selection=dg.AssetSelection.assets(*ANNOTATION_ASSETS),
    partitions_def=user_vcf_files_partitions,
    description="Normalize a sample's VCF and annotate it with the chosen modules.",
)

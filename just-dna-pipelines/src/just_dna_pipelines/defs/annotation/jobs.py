"""Jobs over the per-sample assets."""

import dagster as dg

from just_dna_pipelines.defs.annotation.partitions import user_vcf_files_partitions

ANNOTATION_ASSETS = ("user_vcf_source", "user_vcf_normalized", "user_hf_module_annotations")
# The sample's assets up to its module results: the named ones plus one per module.
ANNOTATION_SELECTION = dg.AssetSelection.assets(*ANNOTATION_ASSETS) | dg.AssetSelection.key_prefixes(
    "user_module_annotations"
)

annotate_with_hf_modules_job = dg.define_asset_job(
    "annotate_with_hf_modules_job",
    selection=ANNOTATION_SELECTION,
    partitions_def=user_vcf_files_partitions,
    description="Normalize a sample's VCF and annotate it with the chosen modules.",
)

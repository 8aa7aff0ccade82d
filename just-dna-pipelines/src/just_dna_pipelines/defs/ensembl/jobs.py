"""Jobs over the Ensembl assets."""

import dagster as dg

DOWNLOAD_ENSEMBL_JOB = "download_ensembl_job"

download_ensembl_job = dg.define_asset_job(
    DOWNLOAD_ENSEMBL_JOB,
    selection=dg.AssetSelection.assets("ensembl_annotations"),
    description="Download (resuming) and verify the Ensembl reference contigs into the local cache.",
)

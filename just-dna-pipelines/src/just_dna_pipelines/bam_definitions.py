"""A code location with only the streaming BAM job and its sensor: `dagster job execute -m
just_dna_pipelines.bam_definitions -j streaming_bam_job -c config.yaml`.

The same job and sensor are in `just_dna_pipelines.definitions` (the app's code location); this one
leaves out the annotation pipeline, so a BAM-only deployment or a one-off run does not import Polars,
DuckDB, PyArrow and the report templates it never uses (about 0.5 s per process).
"""

from just_dna_pipelines.defs.bam import bam_definitions

defs = bam_definitions()

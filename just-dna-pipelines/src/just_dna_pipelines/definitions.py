"""The one Dagster entry point: `dagster dev -m just_dna_pipelines.definitions`."""

import dagster as dg

from just_dna_pipelines.defs.annotation import annotation_definitions
from just_dna_pipelines.defs.bam import bam_definitions
from just_dna_pipelines.defs.ensembl import ensembl_definitions
from just_dna_pipelines.defs.jobs import (
    annotate_and_report_job,
    annotate_sample_job,
    generate_longevity_report_job,
)
from just_dna_pipelines.defs.report import report_definitions

defs = dg.Definitions.merge(
    annotation_definitions(),
    report_definitions(),
    dg.Definitions(jobs=[generate_longevity_report_job, annotate_and_report_job, annotate_sample_job]),
    bam_definitions(),
    ensembl_definitions(),
)

"""The one Dagster entry point: `dagster dev -m just_dna_pipelines.definitions`."""

import dagster as dg

from just_dna_pipelines.defs.annotation import annotation_definitions
from just_dna_pipelines.defs.bam import bam_definitions
from just_dna_pipelines.defs.report import report_definitions

defs = dg.Definitions.merge(annotation_definitions(), report_definitions(), bam_definitions())

"""Dagster definitions for report."""

import dagster as dg

from just_dna_pipelines.defs.report.assets import user_longevity_report


def report_definitions() -> dg.Definitions:
    """The report assets (the jobs that run them are defined with the annotation pipeline)."""
    return dg.Definitions(assets=[user_longevity_report])

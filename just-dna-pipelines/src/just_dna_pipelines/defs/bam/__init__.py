"""Dagster definitions for bam."""

import dagster as dg


def bam_definitions() -> dg.Definitions:
    """The bam assets, jobs, sensors and resources."""
    return dg.Definitions()

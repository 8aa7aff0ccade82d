"""Dagster definitions for report."""

import dagster as dg


def report_definitions() -> dg.Definitions:
    """The report assets, jobs, sensors and resources."""
    return dg.Definitions()

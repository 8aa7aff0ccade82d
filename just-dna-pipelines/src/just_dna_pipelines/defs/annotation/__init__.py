"""Dagster definitions for annotation."""

import dagster as dg


def annotation_definitions() -> dg.Definitions:
    """The annotation assets, jobs, sensors and resources."""
    return dg.Definitions()

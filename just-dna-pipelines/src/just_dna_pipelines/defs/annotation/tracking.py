"""Resource tracking for assets: duration, CPU % and the true peak RSS, as Dagster metadata."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import dagster as dg

from just_dna_pipelines.monitoring import ResourceTracker


@contextlib.contextmanager
def tracked(context: dg.AssetExecutionContext) -> Iterator[ResourceTracker]:
    """Measure the block and attach the figures to the asset's output metadata."""
    with ResourceTracker() as tracker:
        yield tracker
    usage = tracker.usage
    context.add_output_metadata(
        {
            "duration_s": dg.MetadataValue.float(usage.duration_s),
            "cpu_percent": dg.MetadataValue.float(usage.cpu_percent),
            "peak_rss_mb": dg.MetadataValue.float(usage.peak_rss_mb),
        }
    )

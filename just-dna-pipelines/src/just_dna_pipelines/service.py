"""The few calls the web app and the CLI need: register a sample, launch a run, follow it, delete it.

This module is the contract between the web app and the pipelines; it hides Dagster from its callers.
(Implementation in progress: signatures are fixed, bodies land with the pipeline issue.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class VcfFacts:
    """What a quick look at a VCF tells: enough to accept or reject an upload at once."""

    path: Path
    samples: list[str]
    record_count: int
    genome_build: str  # "GRCh38", "GRCh37" or "unknown"
    contig_naming: str  # "chr" (chr1) or "plain" (1) or "unknown"
    is_gvcf: bool
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ProgressEvent:
    """One progress line of a run, in order."""

    cursor: int  # strictly increasing within a run; pass the last one back to get newer events
    timestamp: float
    step: str | None
    kind: str  # "step_start", "step_success", "step_failure", "progress", "log", "run_success", "run_failure"
    message: str


@dataclass(frozen=True)
class RunInfo:
    """A run of the pipeline for one sample."""

    run_id: str
    partition_key: str
    status: str  # "queued", "running", "success", "failure", "canceled"
    modules: list[str]
    started_at: float | None
    ended_at: float | None
    error: str | None = None


@dataclass(frozen=True)
class ModuleInfo:
    """One annotation module offered to the user."""

    name: str
    title: str
    description: str
    version: str
    source: str
    weights_rows: int
    annotations_rows: int
    studies_rows: int
    demo: bool = False


def inspect_vcf(path: Path) -> VcfFacts:
    """Read a VCF's header and count its records; raise VcfError with a one-line message if it is not usable."""
    raise NotImplementedError


def upload_path(user: str, filename: str) -> Path:
    """Where an upload of `filename` by `user` is stored (names validated; folder created)."""
    raise NotImplementedError


def register_sample(user: str, sample: str, vcf_path: Path) -> str:
    """Add the `user/sample` partition for a stored VCF and return its key."""
    raise NotImplementedError


def list_modules(source: str | None = None) -> list[ModuleInfo]:
    """The modules available from `source` (default: the configured source, falling back to demo offline)."""
    raise NotImplementedError


def launch_run(
    user: str, sample: str, modules: list[str], *, report: bool = True, engine: str = "polars"
) -> str:
    """Start annotating (and reporting) a sample in a background process; return the Dagster run id at once."""
    raise NotImplementedError


def get_run(run_id: str) -> RunInfo:
    """The status of a run."""
    raise NotImplementedError


def run_events(run_id: str, after_cursor: int = -1) -> list[ProgressEvent]:
    """Progress events of a run newer than `after_cursor`."""
    raise NotImplementedError


def sample_runs(user: str, sample: str) -> list[RunInfo]:
    """All runs of one sample, newest first."""
    raise NotImplementedError


def report_path(user: str, sample: str) -> Path | None:
    """The finished HTML report of a sample, or None."""
    raise NotImplementedError


def sample_output_files(user: str, sample: str) -> dict[str, Path]:
    """Downloadable outputs of a sample by name (report HTML, per-module CSV and Parquet)."""
    raise NotImplementedError


def delete_sample(user: str, sample: str) -> list[str]:
    """Delete a sample's upload, outputs and Dagster partition; return what was deleted."""
    raise NotImplementedError

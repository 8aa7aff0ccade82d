"""Where outputs are built before they are moved into place: `{OUTPUT_DIR}/.staging/<run id>/` (same file
system as the outputs, so the move is a rename)."""

from __future__ import annotations

import uuid
from pathlib import Path

from just_dna_pipelines.settings import get_settings


def staging_root(output_dir: Path | None = None) -> Path:
    """Where assets build outputs before the IO manager moves them into place (same file system)."""
    return (output_dir or get_settings().output_dir) / ".staging"


def run_staging_dir(run_id: str, output_dir: Path | None = None) -> Path:
    """The staging folder of one run: `.staging/<run id>/`, so a canceled or deleted run's leftovers can be found."""
    return staging_root(output_dir) / str(uuid.UUID(run_id))  # a run id never becomes an arbitrary path

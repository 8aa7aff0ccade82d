"""What a sample's output folder holds, for tests that compare it before and after a run."""

from __future__ import annotations

from pathlib import Path


def folder_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by its path relative to it, with its bytes."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def staging_left(output_dir: Path) -> list[Path]:
    """What is left in the output folder's staging folder (nothing when it was never made)."""
    staging = output_dir / ".staging"
    return list(staging.iterdir()) if staging.is_dir() else []

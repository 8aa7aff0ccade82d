"""Fresh folders for a benchmark: every pipeline folder and DAGSTER_HOME under one root, demo-friendly."""

from __future__ import annotations

import os
from pathlib import Path


def use_fresh_folders(root: Path, modules_source: str = "demo") -> None:
    """Point the pipelines (this process and the ones it starts) at folders under `root`; Hugging Face off."""
    os.environ.update(
        {
            "DAGSTER_HOME": str(root / "dagster"),
            "JUST_DNA_PIPELINES_INPUT_DIR": str(root / "input"),
            "JUST_DNA_PIPELINES_OUTPUT_DIR": str(root / "output"),
            "JUST_DNA_PIPELINES_CACHE_DIR": str(root / "cache"),
            "JUST_DNA_PIPELINES_MODULES_SOURCE": modules_source,
            "HF_ENDPOINT": "http://127.0.0.1:9",
        }
    )

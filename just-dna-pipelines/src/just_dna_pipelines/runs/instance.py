"""The persistent Dagster instance under DAGSTER_HOME (created with telemetry off on first use)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import dagster as dg

from just_dna_pipelines.settings import get_settings

DAGSTER_YAML = """telemetry:
  enabled: false
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 2
"""


def ensure_dagster_home() -> Path:
    """Create DAGSTER_HOME with a dagster.yaml if missing, and export it for Dagster."""
    home = get_settings().dagster_home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


_instances: dict[Path, dg.DagsterInstance] = {}
_lock = threading.Lock()


def get_instance() -> dg.DagsterInstance:
    """The persistent instance the CLI, the web app and the Dagster UI share (one per process and home).

    Created under a lock: two threads creating the storage of a fresh DAGSTER_HOME at once would race.
    """
    with _lock:
        home = ensure_dagster_home()
        if home not in _instances:
            _instances[home] = dg.DagsterInstance.get()
        return _instances[home]

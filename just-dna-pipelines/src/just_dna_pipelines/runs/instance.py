"""The persistent Dagster instance under DAGSTER_HOME: created and migrated once, under a file lock.

Dagster's SQLite storages are created by whichever process opens a fresh DAGSTER_HOME first; the
webserver, the daemon, the web app and the CLI opening it at the same moment damage it (see
storage_check.py). So every process of ours prepares the instance through `prepare_instance`, which
serializes creation and migration with a lock file, and the launcher prepares it before it starts
Dagster's own services.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import dagster as dg

from just_dna_pipelines.errors import PipelineError
from just_dna_pipelines.io.atomic import atomic_write_text
from just_dna_pipelines.runs.locks import file_lock
from just_dna_pipelines.runs.storage_check import check_storage, damaged, known_revisions, storage_revisions
from just_dna_pipelines.settings import get_settings

WORKER_LAUNCHER = "worker"
DAGSTER_YAML = f"""telemetry:
  enabled: false
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 2
    tag_concurrency_limits:
      # Runs queued by the web app are started by its own run worker (at most
      # JUST_DNA_PIPELINES_MAX_CONCURRENT_RUNS at once); a limit of 0 keeps the daemon from launching them too.
      - key: just-dna/launcher
        value: {WORKER_LAUNCHER}
        limit: 0
"""
# Earlier defaults this project wrote; a home holding one exactly is upgraded to DAGSTER_YAML.
# (The previous one is the current one without the tag limit.)
OLD_DAGSTER_YAMLS = (DAGSTER_YAML[: DAGSTER_YAML.index("    tag_concurrency_limits:")],)
LOCK_FILE = ".prepare.lock"

log = logging.getLogger(__name__)
_instances: dict[Path, dg.DagsterInstance] = {}
_prepared: set[Path] = set()  # homes prepared by this process (or the worker it was forked from)
_lock = threading.RLock()


def ensure_dagster_home(home: Path | None = None) -> Path:
    """Create DAGSTER_HOME with the project's dagster.yaml if missing (or an older default).

    The configured home (no argument) is also exported as DAGSTER_HOME for Dagster and child processes.
    """
    configured = home is None
    home = (home or get_settings().dagster_home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or config.read_text() in OLD_DAGSTER_YAMLS:
        atomic_write_text(config, DAGSTER_YAML)
    if configured:
        os.environ["DAGSTER_HOME"] = str(home)
    return home


def prepare_instance(home: Path | None = None) -> Path:
    """Create or migrate the instance once, under a lock; raise PipelineError saying what to do if it is damaged.

    Cheap once done in this process (the instance is kept for `get_instance`).
    """
    with _lock:
        home = ensure_dagster_home(home)
        if home in _prepared:
            if home not in _instances:
                _instances[home] = _open(home)
            return home
        with file_lock(home / LOCK_FILE):
            for repair in check_storage(home):
                log.warning("repaired the Dagster storage: %s", repair)
            instance = _open(home)
            head, _ = known_revisions()
            if any(rows != [head] for rows in storage_revisions(home).values()):
                instance.upgrade()  # what `dagster instance migrate` does
            for relative, rows in storage_revisions(home).items():
                if rows != [head]:
                    raise damaged(home, home / relative, f"schema revision {rows} after migrating")
        _instances[home] = instance
        _prepared.add(home)
        return home


def _open(home: Path) -> dg.DagsterInstance:
    """The instance of `home`, with any failure to open it as one line saying what to do."""
    try:
        return dg.DagsterInstance.from_config(str(home))
    except Exception as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise PipelineError(
            f"the Dagster instance in {home} cannot be opened ({reason}); fix {home / 'dagster.yaml'} "
            f"or move the folder aside (mv {home} {home}.broken) and start again"
        ) from exc


def get_instance() -> dg.DagsterInstance:
    """The persistent instance the CLI, the web app and the Dagster UI share (one per process and home)."""
    with _lock:
        return _instances[prepare_instance()]


def instance_for(home: Path) -> dg.DagsterInstance:
    """The prepared instance of a given DAGSTER_HOME (the run worker serves whichever homes it is sent)."""
    with _lock:
        return _instances[prepare_instance(home)]

"""The persistent Dagster instance under DAGSTER_HOME: created and migrated once, under a file lock.

Dagster's SQLite storages are created by whichever process opens a fresh DAGSTER_HOME first; the
webserver, the daemon, the web app and the CLI opening it at the same moment damage it (see
storage_check.py). So every process of ours prepares the instance through `prepare_instance`, which
serializes creation and migration with a lock file, and the launcher prepares it before it starts
Dagster's own services.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from pathlib import Path

import dagster as dg
from dagster.version import __version__ as dagster_version

from just_dna_pipelines.errors import PipelineError
from just_dna_pipelines.io.atomic import atomic_write_text
from just_dna_pipelines.io.file_lock import file_lock
from just_dna_pipelines.runs import kept_config
from just_dna_pipelines.runs.dagster_config import (
    MARKER,
    PASSED_ENV,
    WORKER_LAUNCHER,
    dagster_yaml,
    workspace_yaml,
)
from just_dna_pipelines.runs.storage_check import (
    STORAGE_PATHS,
    check_storage,
    damaged,
    known_revisions,
    storage_revisions,
)
from just_dna_pipelines.settings import Settings, get_settings

# Earlier defaults this project wrote; a home holding one exactly is upgraded to the generated dagster.yaml.
_V2 = f"""telemetry:
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
OLD_DAGSTER_YAMLS = (_V2[: _V2.index("    tag_concurrency_limits:")], _V2)
LOCK_FILE = ".prepare.lock"
PREPARED_FILE = ".prepared.json"  # the Dagster version and schema head of the last full preparation

log = logging.getLogger(__name__)
_instances: dict[Path, dg.DagsterInstance] = {}
_prepared: set[Path] = set()  # homes prepared by this process (or the worker it was forked from)
_lock = threading.RLock()
# (settings, which passed variables were set, their files), see _texts
_home_texts: tuple[Settings, tuple[bool, ...], tuple[tuple[str, str], ...]] | None = None


def _texts(settings: Settings) -> tuple[tuple[str, str], ...]:
    """(file name, text) of the dagster.yaml and workspace.yaml of `settings`, made once per settings object
    (and set of passed variables, which the launcher config names).

    Every `get_instance` checks the files against them; rendering the YAML took 5 ms a call.
    """
    global _home_texts
    passed = tuple(name in os.environ for name in PASSED_ENV)
    if _home_texts is None or _home_texts[0] is not settings or _home_texts[1] != passed:
        texts = (("dagster.yaml", dagster_yaml(settings)), ("workspace.yaml", workspace_yaml(settings)))
        _home_texts = (settings, passed, texts)
    return _home_texts[2]


def ensure_dagster_home(home: Path | None = None) -> Path:
    """Create DAGSTER_HOME with the dagster.yaml (and workspace.yaml) of the settings.

    The configured home (no argument) gets the files of this process's settings, rewritten when they changed,
    unless the user took over a file (removed its first line) or this is a command (runs/kept_config.py: it
    uses them as they are, and is refused when its storage is another); another home (the run worker serves its
    callers' homes) gets them only if missing or an older default. The configured home is also exported
    as DAGSTER_HOME for Dagster and child processes.
    """
    configured = home is None
    settings = get_settings()
    home = (home or settings.dagster_home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    for name, text in _texts(settings):
        path = home / name
        current = path.read_text() if path.exists() else None
        ours = current is not None and (current in OLD_DAGSTER_YAMLS or current.startswith(MARKER))
        if current is None or (ours and (configured or current in OLD_DAGSTER_YAMLS) and current != text):
            if current is not None and current not in OLD_DAGSTER_YAMLS and kept_config.is_kept():
                if name == "dagster.yaml":
                    _check_same_storage(path, current, settings)
                continue  # a command uses the app's files as they are (runs/kept_config.py)
            atomic_write_text(path, text)
    if configured:
        os.environ["DAGSTER_HOME"] = str(home)
        if settings.dagster_postgres_url:  # as Dagster must read it (the driver named; see Settings)
            os.environ["DAGSTER_POSTGRES_URL"] = settings.dagster_postgres_url
    return home


def _check_same_storage(path: Path, current: str, settings: Settings) -> None:
    """PipelineError unless `settings` keep Dagster's runs where the home's dagster.yaml does."""
    import yaml

    try:
        config = yaml.safe_load(current)
    except yaml.YAMLError:
        return  # opening it says what to fix
    on_postgres = isinstance(config, dict) and "storage" in config
    if on_postgres != bool(settings.dagster_postgres_url):
        where = "PostgreSQL" if on_postgres else "SQLite files"
        raise PipelineError(
            f"{path.parent} keeps Dagster's runs in {where}, but DAGSTER_POSTGRES_URL is "
            f"{'not set' if on_postgres else 'set'} here: run the command with the settings the app runs with "
            f"(or remove {path} to change the storage on purpose)"
        )


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
            if _on_sqlite(home):
                instance = _prepare_sqlite(home)
            else:
                instance = _open(home)
                _migrate_if_behind(instance)
        _instances[home] = instance
        _prepared.add(home)
        return home


def _on_sqlite(home: Path) -> bool:
    """Whether the home's dagster.yaml keeps the storage in SQLite files (no storage section names another)."""
    import yaml

    try:
        config = yaml.safe_load((home / "dagster.yaml").read_text()) or {}
    except yaml.YAMLError:
        return True  # opening it then says what to fix
    return not isinstance(config, dict) or not any(
        key in config for key in ("storage", "run_storage", "event_log_storage")
    )


def _prepare_sqlite(home: Path) -> dg.DagsterInstance:
    """Repair what is safe, open, and migrate the SQLite storages when behind.

    A home this Dagster version prepared before, whose databases each still hold just the head revision it
    recorded, is only opened: reading the schema history to check it takes a second per command.
    """
    recorded = _recorded_head(home)
    try:
        revisions = storage_revisions(home)
    except sqlite3.DatabaseError:
        revisions = {}  # unreadable: the full check below says what to do
    current = len(revisions) == len(STORAGE_PATHS) and all(rows == [recorded] for rows in revisions.values())
    if recorded is not None and current:
        return _open(home)
    for repair in check_storage(home):
        log.warning("repaired the Dagster storage: %s", repair)
    instance = _open(home)
    head, _ = known_revisions()
    if any(rows != [head] for rows in storage_revisions(home).values()):
        instance.upgrade()  # what `dagster instance migrate` does
    migrated = storage_revisions(home)
    for relative, rows in migrated.items():
        if rows != [head]:
            raise damaged(home, home / relative, f"schema revision {rows} after migrating")
    if len(migrated) == len(STORAGE_PATHS):
        atomic_write_text(home / PREPARED_FILE, json.dumps({"dagster": dagster_version, "head": head}))
    return instance


def _recorded_head(home: Path) -> str | None:
    """The head revision recorded when this Dagster version last prepared the home, if it did."""
    try:
        recorded = json.loads((home / PREPARED_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(recorded, dict) or recorded.get("dagster") != dagster_version:
        return None
    head = recorded.get("head")
    return head if isinstance(head, str) else None


def _migrate_if_behind(instance: dg.DagsterInstance) -> None:
    """Migrate a database storage (PostgreSQL) when one of its schemas is behind this Dagster's.

    The storages create their tables when first opened; the lock keeps this machine's processes from
    migrating at once (the other machines of a deployment start after the one that migrates).
    """
    storages = (instance.run_storage, instance.event_log_storage, instance.schedule_storage)
    versions = [getattr(s, "alembic_version", lambda: None)() for s in storages if s is not None]
    if any(version is None or version[0] != version[1] for version in versions):
        instance.upgrade()


def _open(home: Path) -> dg.DagsterInstance:
    """The instance of `home`, with any failure to open it as one line saying what to do."""
    from dagster._core.instance.ref import InstanceRef

    from just_dna_pipelines.runs.sqlite_pool import pooled_ref

    try:
        # Dagster's default SQLite storage with its connections kept open (runs/sqlite_pool.py).
        return dg.DagsterInstance.from_ref(pooled_ref(InstanceRef.from_dir(str(home))))
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

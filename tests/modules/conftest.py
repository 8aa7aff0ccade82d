"""Shared helpers for module tests: fixture paths, isolated settings, tiny SQLite folders."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from just_dna_pipelines.modules.compile_sqlite import BuiltModule, compile_sqlite_modules
from just_dna_pipelines.settings import get_settings

FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures"
MODULE_FIXTURES = FIXTURES / "modules"


def needs_fixtures() -> None:
    """Skip the calling test when the shared real-data fixtures are absent."""
    if not MODULE_FIXTURES.is_dir():
        pytest.skip(f"real module data not found at {MODULE_FIXTURES.resolve()}")


@pytest.fixture
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the cache at tmp_path and the hub at a closed loopback port; return the cache dir."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("JUST_DNA_PIPELINES_CACHE_DIR", str(cache))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("JUST_DNA_PIPELINES_MODULES_SOURCE", raising=False)
    get_settings.cache_clear()
    yield cache
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def real_modules(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, BuiltModule]]:
    """The real fixtures compiled once per session: (output folder, built modules by name)."""
    needs_fixtures()
    out = tmp_path_factory.mktemp("compiled") / "modules"
    built = compile_sqlite_modules(MODULE_FIXTURES, out)
    return out, {b.name: b for b in built}


def make_sqlite(path: Path, tables: dict[str, tuple[str, list[tuple]]]) -> Path:
    """Create a SQLite file from {table: (column DDL, rows)}."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    for name, (ddl, rows) in tables.items():
        con.execute(f'CREATE TABLE "{name}" ({ddl})')
        if rows:
            con.executemany(f'INSERT INTO "{name}" VALUES ({",".join("?" * len(rows[0]))})', rows)
    con.commit()
    con.close()
    return path


@pytest.fixture
def sqlite_maker():
    """`make_sqlite` for tests (conftest modules are not importable under --import-mode=importlib)."""
    return make_sqlite


@pytest.fixture
def demo_hub_files(isolated_settings: Path) -> dict[str, bytes]:
    """The demo modules as a dataset's `data/{module}/{table}.parquet` files (no module.json, as on HF)."""
    from just_dna_pipelines.modules.demo import ensure_demo_modules
    from just_dna_pipelines.modules.sources import module_dirs

    root = ensure_demo_modules()
    return {
        f"data/{d.name}/{f.name}": f.read_bytes()
        for d in module_dirs(root)
        for f in sorted(d.glob("*.parquet"))
    }


@pytest.fixture
def module_fixtures() -> Path:
    """The shared real module data folder (skips when absent)."""
    needs_fixtures()
    return MODULE_FIXTURES

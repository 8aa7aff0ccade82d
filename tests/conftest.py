"""Fixtures shared by the whole suite: the real-data fixtures folder and an isolated pipeline environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SHARED_FIXTURES = Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures"
GENOMES = SHARED_FIXTURES / "genomes"
MODULE_DBS = SHARED_FIXTURES / "modules"
LIFTOVER_CHAIN = SHARED_FIXTURES / "liftover" / "hg38ToHg19.over.chain.gz"


def require_shared_fixtures() -> None:
    """Skip when the shared real-data folder is absent (it lives beside the repository, never in it)."""
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"real-data fixtures not found at {SHARED_FIXTURES.resolve()} (../shared/fixtures)")


@pytest.fixture(scope="session")
def genomes() -> Path:
    """The real genomes folder."""
    require_shared_fixtures()
    return GENOMES


@pytest.fixture(scope="session")
def liftover_chain() -> Path:
    """UCSC's hg38ToHg19 chain from the real-data fixtures."""
    require_shared_fixtures()
    if not LIFTOVER_CHAIN.is_file():
        pytest.skip(f"liftover chain not found at {LIFTOVER_CHAIN.resolve()}")
    return LIFTOVER_CHAIN


@pytest.fixture(scope="session")
def compiled_modules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The five real modules compiled from their SQLite databases, once per session."""
    require_shared_fixtures()
    from just_dna_pipelines.modules.compile_sqlite import compile_sqlite_modules

    out = tmp_path_factory.mktemp("real-modules") / "modules"
    compile_sqlite_modules(MODULE_DBS, out)
    return out


@dataclass(frozen=True)
class PipelineEnv:
    """Temp folders the pipeline uses instead of the repository's data/."""

    root: Path
    input_dir: Path
    output_dir: Path
    dagster_home: Path
    cache_dir: Path


@pytest.fixture
def pipeline_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PipelineEnv]:
    """Point every configured folder into tmp_path (and HF at a closed port), with fresh settings."""
    from just_dna_pipelines.runs import instance
    from just_dna_pipelines.settings import get_settings

    env = PipelineEnv(
        tmp_path, tmp_path / "input", tmp_path / "output", tmp_path / "dagster", tmp_path / "cache"
    )
    monkeypatch.setenv("JUST_DNA_PIPELINES_INPUT_DIR", str(env.input_dir))
    monkeypatch.setenv("JUST_DNA_PIPELINES_OUTPUT_DIR", str(env.output_dir))
    monkeypatch.setenv("JUST_DNA_PIPELINES_CACHE_DIR", str(env.cache_dir))
    monkeypatch.setenv("DAGSTER_HOME", str(env.dagster_home))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    # No test downloads the liftover chain: tests that need one point JUST_DNA_PIPELINES_LIFTOVER_CHAIN at it.
    monkeypatch.setenv("JUST_DNA_PIPELINES_LIFTOVER_CHAIN_URL", "")
    monkeypatch.delenv("JUST_DNA_PIPELINES_LIFTOVER_CHAIN", raising=False)
    monkeypatch.delenv("JUST_DNA_PIPELINES_MODULES_SOURCE", raising=False)
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()
    instance._instances.clear()
    os.environ.pop("DAGSTER_HOME", None)

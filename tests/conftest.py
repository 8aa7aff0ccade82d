"""Fixtures shared by the whole suite: the real-data fixtures folder and an isolated pipeline environment."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

SHARED_FIXTURES = Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures"
GENOMES = SHARED_FIXTURES / "genomes"
MODULE_DBS = SHARED_FIXTURES / "modules"
T = TypeVar("T")


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
    monkeypatch.delenv("JUST_DNA_PIPELINES_MODULES_SOURCE", raising=False)
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()
    instance._instances.clear()
    os.environ.pop("DAGSTER_HOME", None)


LONG_VCF_RECORDS = 5_000_000


@pytest.fixture(scope="session")
def long_vcf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo sample plus five million filler calls (190 MB): a run over it takes tens of seconds, so a test can act
    on a run in progress (queue behind it, cancel it, kill it, delete its sample) before it ends."""
    from just_dna_pipelines.modules.demo import ensure_demo_sample

    folder = tmp_path_factory.mktemp("long-vcf")
    header = [line for line in ensure_demo_sample(folder).read_text().splitlines() if line.startswith("#")]
    path = folder / "long.vcf"
    with path.open("w") as out:
        out.write("\n".join(header) + "\n")
        out.writelines(
            f"chr22\t{10_000_000 + i}\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\n" for i in range(LONG_VCF_RECORDS)
        )
    return path


@pytest.fixture
def demo_env(pipeline_env: PipelineEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[PipelineEnv]:
    """pipeline_env with the demo modules and one run at a time; runs still going at the end are canceled."""
    from just_dna_pipelines.settings import get_settings

    monkeypatch.setenv("JUST_DNA_PIPELINES_MODULES_SOURCE", "demo")
    monkeypatch.setenv("JUST_DNA_PIPELINES_MAX_CONCURRENT_RUNS", "1")
    get_settings.cache_clear()
    yield pipeline_env
    from just_dna_pipelines import service
    from just_dna_pipelines.errors import PipelineError
    from just_dna_pipelines.runs.instance import get_instance

    for run in get_instance().get_runs():
        if not run.is_finished:
            with contextlib.suppress(PipelineError, KeyError):
                service.cancel_run(run.run_id)  # stops its process: nothing outlives the test


def _add_sample(user: str, source: Path, name: str) -> str:
    """Put a VCF in the user's upload folder as sample `name` (a hard link when possible) and register it."""
    from just_dna_pipelines import service

    target = service.upload_path(user, f"{name}.vcf")
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
    service.register_sample(user, name, target)
    return name


def _wait_until(
    condition: Callable[[], T | None], what: str, timeout: float = 300, interval: float = 0.05
) -> T:
    """Poll `condition` until it returns something truthy and return that; fail saying `what` did not happen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def add_sample() -> Callable[[str, Path, str], str]:
    """add_sample(user, vcf, name): put a VCF in the user's upload folder as sample `name` and register it."""
    return _add_sample


@pytest.fixture
def wait_until() -> Callable[..., object]:
    """wait_until(condition, what, timeout=300): poll until `condition()` is truthy and return its value."""
    return _wait_until


@pytest.fixture(scope="session", autouse=True)
def _stop_run_worker() -> Iterator[None]:
    """Stop the warm run worker a test session started (its runs were canceled by their tests)."""
    yield
    import sys

    if "just_dna_pipelines.runs.launcher" in sys.modules:
        sys.modules["just_dna_pipelines.runs.launcher"]._worker.stop()

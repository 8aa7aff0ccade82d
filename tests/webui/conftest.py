"""Web app test helpers: an isolated database (SQLite, or a real PostgreSQL) and pipeline folders, a real
Redis, users, and the real chr21 VCF."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from webui.config import get_web_settings
from webui.db import _engine_for, get_engine
from webui.engines import EngineUnavailable, PostgresServer, RedisServer, running_postgres, running_redis
from webui.services import accounts

CHR21_NAME = "PG_NA12878_hg38-chr21.vcf.gz"


@pytest.fixture
def chr21_vcf(genomes: Path) -> Path:
    """The real 65k-record GRCh38 chr21 VCF of NA12878 (skips when ../shared/fixtures is absent)."""
    return genomes / CHR21_NAME


_DATABASE_NUMBERS = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL on a loopback port for the whole session (skips where it cannot be installed)."""
    try:
        with running_postgres() as server:
            yield server
    except EngineUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real Redis on a loopback port for the whole session (skips where it cannot be installed)."""
    try:
        with running_redis(tmp_path_factory.mktemp("redis")) as server:
            yield server
    except EngineUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty accounts database URL: SQLite unless a test is parametrized with "postgres"
    (`@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)`), then a new database on
    the session's PostgreSQL, given as a plain postgresql:// URL like a user would write it."""
    kind = getattr(request, "param", "sqlite")
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'web.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database(f"web{next(_DATABASE_NUMBERS)}")


@dataclass(frozen=True)
class WebEnv:
    """Temp locations of one test's web app."""

    root: Path
    database_url: str


@pytest.fixture
def web_env(pipeline_env, database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebEnv]:
    """A fresh accounts database (see `database`) and the pipeline folders in tmp_path, demo modules."""
    url = database
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("JUST_DNA_PIPELINES_MODULES_SOURCE", "demo")
    get_web_settings.cache_clear()
    yield WebEnv(pipeline_env.root, url)
    if _engine_for.cache_info().currsize:
        get_engine().dispose()  # no idle PostgreSQL connections left behind by finished tests
    get_web_settings.cache_clear()
    _engine_for.cache_clear()


@pytest.fixture
def alice(web_env) -> accounts.CurrentUser:
    """A signed-up user."""
    return accounts.sign_up("alice", "correct horse battery")


@pytest.fixture
def bob(web_env) -> accounts.CurrentUser:
    """A second signed-up user."""
    return accounts.sign_up("bob", "another long secret")


def _upload_file(user: accounts.CurrentUser, source: Path, filename: str | None = None):
    """Push a file through the upload sink in 1 MB chunks, like the browser upload does."""
    from webui.services.uploads import UploadSink

    sink = UploadSink(user, filename or source.name)
    with source.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            sink.write(chunk)
    return sink.finish()


@pytest.fixture
def upload_file():
    """The chunked-upload helper (see `_upload_file`)."""
    return _upload_file


@pytest.fixture
def chain_configured(web_env, liftover_chain, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The pipelines configured with UCSC's hg38ToHg19 chain from the fixtures (GRCh37 inputs get lifted)."""
    from just_dna_pipelines.settings import get_settings

    monkeypatch.setenv("JUST_DNA_PIPELINES_LIFTOVER_CHAIN", str(liftover_chain))
    get_settings.cache_clear()
    return liftover_chain


@pytest.fixture
def app_env(pipeline_env, tmp_path: Path) -> dict[str, str]:
    """Environment of a browser-tested app: a temp database and pipeline folders (skips without Chromium)."""
    from webui.harness import CHROMIUM

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing (apt-get install chromium)")
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'web.db'}",
        "JUST_DNA_PIPELINES_INPUT_DIR": str(pipeline_env.input_dir),
        "JUST_DNA_PIPELINES_OUTPUT_DIR": str(pipeline_env.output_dir),
        "JUST_DNA_PIPELINES_CACHE_DIR": str(pipeline_env.cache_dir),
        "DAGSTER_HOME": str(pipeline_env.dagster_home),
    }


@pytest.fixture
def real_modules_app(app_env, compiled_modules, liftover_chain, tmp_path: Path):
    """The web app on free ports over temp folders, the real modules compiled from the fixtures, UCSC's chain."""
    from webui.harness import running_app

    env = {
        **app_env,
        "JUST_DNA_PIPELINES_MODULES_SOURCE": str(compiled_modules),
        "JUST_DNA_PIPELINES_LIFTOVER_CHAIN": str(liftover_chain),
    }
    with running_app(env, tmp_path / "app.log") as running:
        yield running

"""Configuration of the pipelines, read from environment variables in this one place."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_MODULES_SOURCE = "hf://just-dna-seq/annotators"
# UCSC's GRCh38 -> GRCh37 chain, fetched once into the cache when no local chain is configured.
DEFAULT_LIFTOVER_CHAIN_URL = (
    "https://hgdownload.soe.ucsc.edu/goldenPath/hg38/liftOver/hg38ToHg19.over.chain.gz"
)
DEFAULT_ENSEMBL_SOURCE = "hf://just-dna-seq/ensembl_variations"
# What Polars' and DuckDB's readers take for a pattern of file names in a path.
GLOB_CHARACTERS = "*?["


def sample_output_folder(output_dir: Path, user: str, sample: str) -> Path:
    """Root of everything the pipeline writes for one sample, under the output folder `output_dir`."""
    return output_dir / "users" / user / sample


def _default_max_concurrent_runs() -> int:
    """One core fewer than the machine has (at least one), so the web server keeps a core for clicks."""
    import os

    return max(1, (os.cpu_count() or 1) - 1)


def _default_cache_dir() -> Path:
    """The OS user cache folder for reference and module downloads."""
    import os

    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "just-dna-pipelines"


class Settings(BaseSettings):
    """Paths and sources of the pipelines; every field has an environment variable."""

    model_config = SettingsConfigDict(env_prefix="JUST_DNA_PIPELINES_", extra="ignore")

    cache_dir: Path = Field(default_factory=_default_cache_dir)
    output_dir: Path = REPO_ROOT / "data" / "output"
    input_dir: Path = REPO_ROOT / "data" / "input"
    modules_source: str = DEFAULT_MODULES_SOURCE
    ensembl_source: str = DEFAULT_ENSEMBL_SOURCE
    # Share of the machine's memory and cores the DuckDB engine may use (0-1].
    duckdb_memory_fraction: float = 0.75
    duckdb_threads_fraction: float = 0.75
    # Re-annotate samples by Dagster automation when a module or the reference gets a new revision.
    auto_reannotate: bool = False
    dagster_home: Path = Field(
        default=REPO_ROOT / "data" / "interim" / "dagster",
        validation_alias="DAGSTER_HOME",
    )
    hf_token: str | None = Field(default=None, validation_alias="HF_TOKEN")
    hf_endpoint: str = Field(default="https://huggingface.co", validation_alias="HF_ENDPOINT")
    hf_offline: bool = Field(default=False, validation_alias="HF_HUB_OFFLINE")
    # A local hg38ToHg19 chain for GRCh37 inputs; unset: the cached download (an empty URL disables downloading).
    liftover_chain: Path | None = None
    liftover_chain_url: str = DEFAULT_LIFTOVER_CHAIN_URL
    # Bounds on a consumer DNA-test raw file (once decompressed): total size and the longest line.
    raw_max_bytes: int = 2 * 1024 * 1024 * 1024
    raw_max_line_bytes: int = 64 * 1024
    # Bounds on reading an input VCF, checked before anything is buffered: a gzip bomb or a single huge
    # line is refused instead of exhausting memory. Real single-sample VCFs and gVCFs stay far below both.
    max_decompressed_gb: float = Field(default=64.0, gt=0)
    max_line_mb: float = Field(default=16.0, gt=0)
    max_concurrent_runs: int = Field(default_factory=_default_max_concurrent_runs, ge=1)
    # How many runs of one user may be in progress at once in "queue" run mode (Dagster's tag limit).
    max_runs_per_user: int = Field(default=1, ge=1)

    # Dagster's storage (runs, events, schedules) on PostgreSQL when set; SQLite in DAGSTER_HOME otherwise.
    # dagster.yaml names the variable, never the URL (it may hold a password).
    dagster_postgres_url: str | None = Field(default=None, validation_alias="DAGSTER_POSTGRES_URL")
    # "local": the app's warm run worker executes runs; "queue": Dagster's run queue, daemon and run launcher.
    run_mode: Literal["local", "queue"] = Field(default="local", validation_alias="JUST_DNA_RUN_MODE")
    # The run launcher of "queue" mode: a process of the code server, a Docker container or a Kubernetes job.
    run_launcher: Literal["default", "docker", "k8s"] = Field(
        default="default", validation_alias="JUST_DNA_RUN_LAUNCHER"
    )
    # The gRPC code server that serves the definitions to the daemon and webserver (both run modes).
    code_server_host: str = Field(default="127.0.0.1", validation_alias="JUST_DNA_CODE_SERVER_HOST")
    code_server_port: int = Field(default=4266, ge=1, le=65535, validation_alias="JUST_DNA_CODE_SERVER_PORT")
    # The image runs start in (docker and k8s launchers); the Docker network they join.
    run_image: str | None = Field(default=None, validation_alias="JUST_DNA_RUN_IMAGE")
    docker_network: str | None = Field(default=None, validation_alias="JUST_DNA_DOCKER_NETWORK")
    # Volumes run containers mount, comma-separated "volume:/path" (the shared data root, at the same paths).
    docker_volumes: str = Field(default="", validation_alias="JUST_DNA_DOCKER_VOLUMES")
    # Kubernetes: the namespace of run jobs, the ConfigMap holding dagster.yaml, the service account.
    k8s_namespace: str = Field(default="default", validation_alias="JUST_DNA_K8S_NAMESPACE")
    k8s_instance_config_map: str = Field(
        default="dagster-instance", validation_alias="JUST_DNA_K8S_INSTANCE_CONFIG_MAP"
    )
    k8s_service_account: str | None = Field(default=None, validation_alias="JUST_DNA_K8S_SERVICE_ACCOUNT")
    # Seconds a run may stay STARTING before run monitoring fails it ("queue" mode).
    run_start_timeout_s: int = Field(default=180, ge=1)
    run_monitoring_interval_s: int = Field(default=30, ge=1)

    @field_validator("cache_dir", "output_dir", "input_dir", "dagster_home")
    @classmethod
    def _utf8_folder(cls, path: Path) -> Path:
        """Polars, DuckDB and Dagster's storage take paths as UTF-8 text: a folder named in another encoding (a
        Latin-1 name, say) failed mid-run with an unrelated message. They also take a path with * ? [ for a pattern:
        "data[old]" matched no file ("expanded paths were empty" mid-run), "data*" could match other folders."""
        from just_dna_pipelines.io.utf8_path import is_utf8_path

        if not is_utf8_path(path):
            raise ValueError("the folder's path is not valid UTF-8; use one that is")
        if set(str(path)) & set(GLOB_CHARACTERS):
            raise ValueError(
                f"the folder's path holds one of {' '.join(GLOB_CHARACTERS)}, which Polars and DuckDB read as a "
                "pattern of file names; use one that does not"
            )
        return path

    @field_validator("dagster_postgres_url")
    @classmethod
    def _dagster_driver(cls, url: str | None) -> str | None:
        """dagster-postgres is written for psycopg2; SQLAlchemy 2.1 would open a plain postgresql:// URL with
        psycopg 3 (not installed), so the driver is named. Other drivers are refused in one line."""
        if not url:
            return None
        scheme, sep, rest = url.partition("://")
        if not sep or scheme not in {"postgres", "postgresql", "postgresql+psycopg2"}:
            raise ValueError(
                "DAGSTER_POSTGRES_URL must look like postgresql://user:password@host:5432/database"
            )
        return f"postgresql+psycopg2://{rest}"

    def user_input_dir(self, user: str) -> Path:
        """Where a user's uploaded or dropped VCFs live."""
        return self.input_dir / "users" / user

    def sample_output_dir(self, user: str, sample: str) -> Path:
        """Root of everything the pipeline writes for one sample."""
        return sample_output_folder(self.output_dir, user, sample)

    @property
    def ensembl_cache_dir(self) -> Path:
        """Where downloaded Ensembl reference files (and DuckDB's spill files) live."""
        return self.cache_dir / "ensembl"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; call `get_settings.cache_clear()` after changing env vars).

    A bad value raises PipelineError, one line naming the variable."""
    from pydantic import ValidationError

    from just_dna_pipelines.errors import PipelineError

    try:
        return Settings()
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else ""
        # Fields read under their own variable name report that name; the others get the prefix.
        name = f"JUST_DNA_PIPELINES_{field.upper()}" if field in Settings.model_fields else field
        message = str(error["msg"]).removeprefix("Value error, ")
        raise PipelineError(f"bad setting {name}: {message}") from None

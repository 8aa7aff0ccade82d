"""Configuration of the pipelines, read from environment variables in this one place."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_MODULES_SOURCE = "hf://just-dna-seq/annotators"


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
    dagster_home: Path = Field(
        default=REPO_ROOT / "data" / "interim" / "dagster",
        validation_alias="DAGSTER_HOME",
    )
    hf_token: str | None = Field(default=None, validation_alias="HF_TOKEN")
    hf_endpoint: str = Field(default="https://huggingface.co", validation_alias="HF_ENDPOINT")
    hf_offline: bool = Field(default=False, validation_alias="HF_HUB_OFFLINE")
    max_concurrent_runs: int = Field(default_factory=_default_max_concurrent_runs, ge=1)

    def user_input_dir(self, user: str) -> Path:
        """Where a user's uploaded or dropped VCFs live."""
        return self.input_dir / "users" / user

    def sample_output_dir(self, user: str, sample: str) -> Path:
        """Root of everything the pipeline writes for one sample."""
        return self.output_dir / "users" / user / sample


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; call `get_settings.cache_clear()` after changing env vars)."""
    return Settings()

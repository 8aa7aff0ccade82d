"""Configuration of the web app, read from environment variables in this one place."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from just_dna_pipelines.settings import REPO_ROOT

DEFAULT_DATABASE_URL = f"sqlite:///{REPO_ROOT / 'data' / 'interim' / 'webui.db'}"


class WebSettings(BaseSettings):
    """Accounts, sessions and upload limits of the web app; every field has an environment variable."""

    model_config = SettingsConfigDict(env_prefix="JUST_DNA_WEBUI_", extra="ignore")

    database_url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    session_hours: float = 12.0
    max_upload_mb: int = 2048
    login_max_failures: int = 5
    login_window_seconds: int = 900
    min_password_length: int = 8
    cookie_secure: bool = False

    @property
    def max_upload_bytes(self) -> int:
        """The upload size limit in bytes."""
        return self.max_upload_mb * 1024 * 1024


@lru_cache(maxsize=1)
def get_web_settings() -> WebSettings:
    """The process-wide web settings (cached; call `get_web_settings.cache_clear()` after changing env vars)."""
    return WebSettings()

"""Configuration of the web app, read from environment variables in this one place."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from just_dna_pipelines.settings import REPO_ROOT

DEFAULT_DATABASE_URL = f"sqlite:///{REPO_ROOT / 'data' / 'interim' / 'webui.db'}"
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class WebSettings(BaseSettings):
    """Accounts, sessions, origins and upload limits of the web app; every field has an environment variable."""

    model_config = SettingsConfigDict(env_prefix="JUST_DNA_WEBUI_", extra="ignore")

    database_url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    session_hours: float = 12.0
    max_upload_mb: int = 2048
    login_max_failures: int = 5
    login_window_seconds: int = 900
    login_base_delay_seconds: float = 1.0
    login_max_delay_seconds: float = 60.0
    cookie_secure: bool = False
    # Origins (scheme://host:port) whose pages may use the backend: comma-separated; default: this app's own.
    allowed_origins: str = ""
    # Reverse proxies whose X-Forwarded-For is believed (comma-separated addresses); none by default.
    trusted_proxies: str = ""
    host: str = Field(default="127.0.0.1", validation_alias="JUST_DNA_HOST")
    frontend_port: int = Field(default=3000, validation_alias="JUST_DNA_FRONTEND_PORT")
    backend_port: int = Field(default=8000, validation_alias="JUST_DNA_BACKEND_PORT")

    @property
    def max_upload_bytes(self) -> int:
        """The upload size limit in bytes."""
        return self.max_upload_mb * 1024 * 1024

    @property
    def session_seconds(self) -> int:
        """The session lifetime in seconds."""
        return int(self.session_hours * 3600)

    def origins(self) -> list[str]:
        """The origins allowed to call the backend with credentials (CORS and the websocket's Origin check)."""
        if self.allowed_origins:
            return [origin.rstrip("/") for origin in _split(self.allowed_origins)]
        hosts = ["127.0.0.1", "localhost"]
        if self.host not in WILDCARD_HOSTS and self.host not in hosts:
            hosts.append(self.host)
        ports = dict.fromkeys([self.frontend_port, self.backend_port])
        return [f"http://{host}:{port}" for host in hosts for port in ports]

    def proxies(self) -> set[str]:
        """Addresses of trusted reverse proxies."""
        return set(_split(self.trusted_proxies))


@lru_cache(maxsize=1)
def get_web_settings() -> WebSettings:
    """The process-wide web settings (cached; call `get_web_settings.cache_clear()` after changing env vars)."""
    return WebSettings()


def environment_summary() -> dict[str, str]:
    """The web settings' environment variables that are set (for logs; never secrets)."""
    return {key: value for key, value in os.environ.items() if key.startswith("JUST_DNA_WEBUI_")}

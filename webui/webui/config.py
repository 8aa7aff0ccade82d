"""Configuration of the web app, read from environment variables in this one place."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from just_dna_pipelines.settings import REPO_ROOT

DEFAULT_DATABASE_URL = f"sqlite:///{REPO_ROOT / 'data' / 'interim' / 'webui.db'}"
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
# The PostgreSQL driver this app installs (psycopg 3); plain postgresql:// would make SQLAlchemy ask for psycopg2.
POSTGRES_DRIVER = "postgresql+psycopg://"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class ConfigError(ValueError):
    """A setting that cannot work; the message is one line that names the variable."""


def normalize_database_url(url: str) -> str:
    """`url` with PostgreSQL URLs (postgresql://, postgres://) pointed at the installed psycopg driver."""
    url = url.strip()
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return POSTGRES_DRIVER + url.removeprefix(prefix)
    return url


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class WebSettings(BaseSettings):
    """Accounts, sessions, origins and upload limits of the web app; every field has an environment variable."""

    model_config = SettingsConfigDict(env_prefix="JUST_DNA_WEBUI_", extra="ignore")

    database_url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    # Web-app state (per tab) in Redis instead of process memory: needed for more than one backend worker.
    redis_url: str = Field(default="", validation_alias="REDIS_URL")
    # Backend worker processes of `start --prod` (more than 1 needs REDIS_URL).
    workers: int = 1
    session_hours: float = 12.0
    max_upload_mb: int = 2048
    # What one account may keep (several people share a server's disk): samples, and their uploads' bytes.
    max_samples_per_user: int = Field(default=200, gt=0)
    max_storage_gb_per_user: float = Field(default=100.0, gt=0)
    login_max_failures: int = 5
    login_window_seconds: int = 900
    login_base_delay_seconds: float = 1.0
    login_max_delay_seconds: float = 60.0
    # Sign-ups one client address may make in the login window before each waits longer (a lab behind one address
    # signs its people up in a morning; a script listing taken names or burning password hashes is slowed).
    signup_max_per_window: int = 20
    cookie_secure: bool = False
    # Origins (scheme://host:port) whose pages may use the backend: comma-separated; default: this app's own.
    allowed_origins: str = ""
    # Reverse proxies whose X-Forwarded-For is believed (comma-separated addresses); none by default.
    trusted_proxies: str = ""
    host: str = Field(default="127.0.0.1", validation_alias="JUST_DNA_HOST")
    frontend_port: int = Field(default=3000, validation_alias="JUST_DNA_FRONTEND_PORT")
    backend_port: int = Field(default=8000, validation_alias="JUST_DNA_BACKEND_PORT")

    @field_validator("database_url")
    @classmethod
    def _driver(cls, value: str) -> str:
        return normalize_database_url(value)

    def problem(self) -> str | None:
        """Why these settings cannot work (one line naming the variable), or None."""
        if self.redis_url and not self.redis_url.startswith(REDIS_SCHEMES):
            return f"REDIS_URL must start with {', '.join(REDIS_SCHEMES)} (got {self.redis_url.split(':')[0]}:...)"
        if self.workers < 1:
            return f"JUST_DNA_WEBUI_WORKERS must be 1 or more (got {self.workers})"
        if self.workers > 1 and not self.redis_url:
            return (
                f"JUST_DNA_WEBUI_WORKERS={self.workers} needs REDIS_URL: several backend workers share "
                "the web-app state through Redis (set REDIS_URL=redis://host:6379/0 or use 1 worker)"
            )
        return None

    @property
    def max_upload_bytes(self) -> int:
        """The upload size limit in bytes."""
        return self.max_upload_mb * 1024 * 1024

    @property
    def max_storage_bytes_per_user(self) -> int:
        """What one account's uploads may take in all, in bytes."""
        return int(self.max_storage_gb_per_user * 1024**3)

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


def settings_problem() -> str | None:
    """Why the web settings in the environment cannot work (one line naming the variable), or None."""
    try:
        settings = get_web_settings()
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "?"
        field = WebSettings.model_fields.get(name)
        alias = field.validation_alias if field is not None else None
        variable = alias if isinstance(alias, str) else f"JUST_DNA_WEBUI_{name.upper()}"
        return f"{variable}: {error['msg']} (got {error.get('input')!r})"
    return settings.problem()

"""Which page origins may use the backend, and the backend's own address as the browser reaches it."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from webui.config import get_web_settings


def allowed_origins() -> list[str]:
    """Origins (scheme://host:port) allowed to call the backend with credentials and open its websocket."""
    return get_web_settings().origins()


def is_allowed_origin(origin: str | None) -> bool:
    """Whether a request's Origin header names one of this app's own origins."""
    return bool(origin) and origin.rstrip("/") in allowed_origins()  # type: ignore[union-attr]


def backend_base(headers: Mapping[str, str], peer: str = "") -> str:
    """scheme://host[:port] of the backend as the browser reached it (from the websocket's request headers).

    Behind a trusted reverse proxy its X-Forwarded-Host/-Proto win; otherwise the Host header and the
    scheme of the page's own origin.
    """
    trusted = peer in get_web_settings().proxies()
    host = (trusted and headers.get("x-forwarded-host")) or headers.get("host", "")
    scheme = (trusted and headers.get("x-forwarded-proto")) or urlsplit(headers.get("origin", "")).scheme
    return f"{scheme or 'http'}://{host.split(',')[0].strip()}"

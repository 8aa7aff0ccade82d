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


def navigated_from_the_app(headers: Mapping[str, str]) -> bool:
    """Whether a browser's navigation was started by one of the app's own pages (login CSRF: a page elsewhere, or
    a link in a message, sending the browser to redeem a ticket the attacker got, logs it into their account).

    A browser says where a navigation came from in Sec-Fetch-Site and the Referer's origin (both set by the
    browser alone; the app's pages send their origin under the default referrer policy): same-origin, or the
    Referer naming an allowed origin (dev mode's pages are on another port, same-site), and never cross-site.
    A request saying neither (a link opened from outside the browser, `none`) is refused.
    """
    site = headers.get("sec-fetch-site", "")
    if site == "same-origin":
        return True
    if site == "cross-site":
        return False
    referer = urlsplit(headers.get("referer", ""))
    return bool(referer.scheme and referer.netloc) and is_allowed_origin(
        f"{referer.scheme}://{referer.netloc}"
    )

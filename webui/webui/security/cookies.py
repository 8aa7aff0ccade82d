"""The session cookie: set only by the server, HttpOnly, SameSite=Strict, Secure behind HTTPS."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

SESSION_COOKIE = "jdl_session"


def session_token(cookie_header: str | None) -> str | None:
    """The session token carried in a Cookie header, or None."""
    if not cookie_header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie_header)
    except CookieError:
        # One malformed pair (another app on this host) must not hide ours: look at each pair alone.
        for part in cookie_header.split(";"):
            name, _, value = part.strip().partition("=")
            if name == SESSION_COOKIE and value:
                return value
        return None
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel is not None and morsel.value else None


def set_session_cookie(token: str, max_age_s: int, secure: bool) -> str:
    """The Set-Cookie value that stores a new session; page scripts can never read it."""
    flags = f"; Max-Age={max_age_s}; Path=/; HttpOnly; SameSite=Strict"
    return f"{SESSION_COOKIE}={token}{flags}{'; Secure' if secure else ''}"


def clear_session_cookie(secure: bool) -> str:
    """The Set-Cookie value that removes the session cookie."""
    return f"{SESSION_COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict{'; Secure' if secure else ''}"

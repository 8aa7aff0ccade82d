"""The logged-in user of this tab; every other state inherits it to check ownership server-side.

The session lives in an HttpOnly cookie that only the server sets (routes.py): page scripts never see it.
The websocket's own request carries it; `security.guard.SessionGuard` binds this state to its user before
every event (keeping only the token's digest), and wipes all user-bound states when the session ends or
another user logs in.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote

import reflex as rx

from webui.security.origins import backend_base, is_allowed_origin
from webui.security.throttle import client_address
from webui.services import accounts
from webui.services.errors import AuthError


def navigate_to(url: str) -> Any:
    """A full page load of `url` (a new websocket connection, so the new cookie comes along)."""
    return rx.call_script(f"window.location.replace({json.dumps(url)})")


class AuthState(rx.State):
    """Who is logged in (checked against the connection's session cookie before every event)."""

    user_name: rx.Field[str] = rx.field("")
    auth_error: rx.Field[str] = rx.field("")
    auth_busy: rx.Field[bool] = rx.field(False)
    # Sent with uploads (their requests carry no cookie in dev mode); given only to a tab with a live session.
    upload_key: rx.Field[str] = rx.field("")
    _owner_id: int | None = None
    # The SHA-256 of the connection's session token, set by the session guard; the token itself is never kept.
    _session_digest: str = ""

    def current_user(self) -> accounts.CurrentUser:
        """The logged-in user, checked again now; raises AuthError when the session is missing or ended."""
        user = accounts.user_for_session(self._session_digest)
        if user is None or user.id != self._owner_id:
            raise AuthError("please log in")
        return user

    def session_is(self, user: accounts.CurrentUser) -> bool:
        """Whether this tab's session still belongs to `user` (for long-running loops)."""
        return (current := accounts.user_for_session(self._session_digest)) is not None and current == user

    def page_user(self) -> accounts.CurrentUser | None:
        """For on-load handlers of private pages: the logged-in user, or None."""
        try:
            return self.current_user()
        except AuthError:
            return None

    def _address(self) -> str:
        """The client's address (X-Forwarded-For only from a trusted proxy)."""
        headers = self.router.headers.raw_headers
        return client_address(headers.get("asgi-scope-client", ""), headers.get("x-forwarded-for"))

    def _enter(self, user: accounts.CurrentUser) -> Any:
        """Trade a one-time ticket for the HttpOnly session cookie at the backend, then load the home page."""
        headers = self.router.headers.raw_headers
        origin = headers.get("origin", "")
        if not is_allowed_origin(origin):
            raise AuthError("this page's address is not one this app serves; open it from its own address")
        ticket = accounts.issue_login_ticket(user, origin.rstrip("/") + "/")
        base = backend_base(headers, headers.get("asgi-scope-client", ""))
        return navigate_to(f"{base}/auth/enter?ticket={quote(ticket)}")

    @rx.event
    def require_login(self):
        """On-load guard of private pages: send visitors without a live session to the login page."""
        return rx.redirect("/login") if self.page_user() is None else None

    @rx.event
    def skip_if_logged_in(self):
        """On-load of the login and sign-up pages: go home when already logged in."""
        self.auth_error, self.auth_busy = "", False
        return rx.redirect("/") if self.page_user() is not None else None

    @rx.event(background=True)
    async def log_in(self, form: dict):
        """Check the credentials (slow hash off the event loop and off the tab's state lock), then enter."""
        async with self:
            self.auth_error, self.auth_busy = "", True
            address = self._address()
        name, password = str(form.get("name", "")), str(form.get("password", ""))
        try:
            user = await asyncio.to_thread(accounts.log_in, name, password, address)
            async with self:
                enter = self._enter(user)
            yield enter
        except AuthError as exc:
            async with self:
                self.auth_error, self.auth_busy = str(exc), False

    @rx.event(background=True)
    async def sign_up(self, form: dict):
        """Create the account (off the tab's state lock: hashing is slow), then enter like a login."""
        password = str(form.get("password", ""))
        async with self:
            if password != str(form.get("confirm", "")):
                self.auth_error, self.auth_busy = "the two passwords differ", False
                return
            self.auth_error, self.auth_busy = "", True
            address = self._address()
        try:
            user = await asyncio.to_thread(accounts.sign_up, str(form.get("name", "")), password, address)
            async with self:
                enter = self._enter(user)
            yield enter
        except AuthError as exc:
            async with self:
                self.auth_error, self.auth_busy = str(exc), False

    @rx.event
    async def log_out(self):
        """End the session, wipe this tab's user data on the server, and let the backend drop the cookie."""
        from webui.security.guard import wipe_user_states

        await asyncio.to_thread(accounts.end_session, self._session_digest)
        await wipe_user_states(self._get_root_state())
        headers = self.router.headers.raw_headers
        base = backend_base(headers, headers.get("asgi-scope-client", ""))
        return navigate_to(f"{base}/auth/logout?to={quote(headers.get('origin', ''), safe='')}")

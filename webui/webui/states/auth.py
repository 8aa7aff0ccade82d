"""The session cookie and the current user; every other state inherits it to check ownership server-side."""

from __future__ import annotations

import asyncio

import reflex as rx

from webui.config import get_web_settings
from webui.routes import SESSION_COOKIE
from webui.services import accounts
from webui.services.errors import AuthError

_settings = get_web_settings()


class AuthState(rx.State):
    """Who is logged in; the token lives in a cookie so the file routes can check it too."""

    session_token: str = rx.Cookie(
        "",
        name=SESSION_COOKIE,
        path="/",
        same_site="strict",
        secure=_settings.cookie_secure,
        max_age=int(_settings.session_hours * 3600),
    )
    user_name: rx.Field[str] = rx.field("")
    auth_error: rx.Field[str] = rx.field("")
    auth_busy: rx.Field[bool] = rx.field(False)

    def current_user(self) -> accounts.CurrentUser:
        """The logged-in user; raises AuthError when the session is missing or expired."""
        return accounts.require_user(self.session_token)

    def page_user(self) -> accounts.CurrentUser | None:
        """For on-load handlers of private pages: the logged-in user (name shown in the top bar), or None."""
        user = accounts.user_for_token(self.session_token)
        self.user_name = user.name if user else ""
        return user

    @rx.event
    def require_login(self):
        """On-load guard of private pages: send visitors without a live session to the login page."""
        return rx.redirect("/login") if self.page_user() is None else None

    @rx.event
    def skip_if_logged_in(self):
        """On-load of the login and sign-up pages: go home when already logged in."""
        self.auth_error = ""
        if accounts.user_for_token(self.session_token) is not None:
            return rx.redirect("/")
        return None

    @rx.event
    async def log_in(self, form: dict):
        """Check the credentials (slow hash off the event loop) and open a session."""
        self.auth_error, self.auth_busy = "", True
        yield
        try:
            client = self.router.session.client_ip or ""
            user, token = await asyncio.to_thread(
                accounts.log_in, str(form.get("name", "")), str(form.get("password", "")), client
            )
        except AuthError as exc:
            self.auth_error, self.auth_busy = str(exc), False
            return
        yield self._enter(user, token)

    @rx.event
    async def sign_up(self, form: dict):
        """Create the account and log in."""
        self.auth_error, self.auth_busy = "", True
        yield
        password = str(form.get("password", ""))
        if password != str(form.get("confirm", "")):
            self.auth_error, self.auth_busy = "the two passwords differ", False
            return
        try:
            user = await asyncio.to_thread(accounts.sign_up, str(form.get("name", "")), password)
            token = await asyncio.to_thread(accounts.open_session, user)
        except AuthError as exc:
            self.auth_error, self.auth_busy = str(exc), False
            return
        yield self._enter(user, token)

    def _enter(self, user: accounts.CurrentUser, token: str):
        """Keep the new session in the cookie and go to the home page."""
        self.session_token, self.user_name, self.auth_busy = token, user.name, False
        return rx.redirect("/")

    @rx.event
    def log_out(self):
        """End the session and forget the cookie."""
        accounts.log_out(self.session_token)
        self.session_token, self.user_name = "", ""
        return rx.redirect("/login")

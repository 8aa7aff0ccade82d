"""Account page: delete the account with all data, confirmed with the password."""

from __future__ import annotations

import asyncio

import reflex as rx

from webui.services import accounts, samples
from webui.services.errors import AuthError, WebError
from webui.states.auth import AuthState


class AccountState(AuthState):
    """Deletion of the logged-in account."""

    deleted: rx.Field[list[str]] = rx.field(default_factory=list)
    error: rx.Field[str] = rx.field("")
    deleting: rx.Field[bool] = rx.field(False)

    @rx.event
    def load(self):
        """On-load: require a session; clear old messages."""
        self.error = ""
        if not self.deleted:
            return AuthState.require_login
        return None

    @rx.event
    async def delete_account(self, form: dict):
        """Check the password, delete every sample with its data, then the account; list what went."""
        try:
            user = self.current_user()
        except AuthError:
            return rx.redirect("/login")
        self.error, self.deleting = "", True
        try:
            # The same throttled check as a login: the form must not become a way to guess passwords.
            await asyncio.to_thread(
                accounts.log_in, user.name, str(form.get("password", "")), self._address()
            )
        except AuthError as exc:
            self.deleting = False
            self.error = "wrong password" if str(exc) == accounts.LOGIN_FAILED else str(exc)
            return None
        try:
            self.deleted = await asyncio.to_thread(samples.delete_account, user)
        except WebError as exc:
            self.error = str(exc)
        self.deleting, self.user_name = False, ""
        return None

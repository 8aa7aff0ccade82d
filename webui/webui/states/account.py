"""Account page: delete the account with all data."""

from __future__ import annotations

import asyncio

import reflex as rx

from webui.services import samples
from webui.services.errors import AuthError, WebError
from webui.states.auth import AuthState


class AccountState(AuthState):
    """Deletion of the logged-in account."""

    confirm_text: rx.Field[str] = rx.field("")
    deleted: rx.Field[list[str]] = rx.field(default_factory=list)
    error: rx.Field[str] = rx.field("")

    @rx.event
    def load(self):
        """On-load: require a session; clear old messages."""
        self.confirm_text, self.error = "", ""
        if not self.deleted:
            return AuthState.require_login
        return None

    @rx.event
    def set_confirm_text(self, value: str):
        """What the user typed to confirm."""
        self.confirm_text = value

    @rx.event
    async def delete_account(self):
        """Delete every sample with its data, then the account; log out and list what went."""
        try:
            user = self.current_user()
        except AuthError:
            return rx.redirect("/login")
        if self.confirm_text.strip().lower() != user.name:
            self.error = "type your user name to confirm"
            return None
        try:
            self.deleted = await asyncio.to_thread(samples.delete_account, user)
        except WebError as exc:
            self.error = str(exc)
            return None
        self.session_token, self.user_name = "", ""
        return None

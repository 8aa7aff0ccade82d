"""Account page: delete the account with all data, confirmed with the password."""

from __future__ import annotations

import asyncio

import reflex as rx

from webui.services import accounts, samples
from webui.services.errors import AuthError, WebError
from webui.states.auth import AuthState
from webui.states.open_tabs import forget_notice_later, forget_user, in_user_tabs


class AccountState(AuthState):
    """Deletion of the logged-in account."""

    deleted: rx.Field[list[str]] = rx.field(default_factory=list)
    error: rx.Field[str] = rx.field("")
    deleting: rx.Field[bool] = rx.field(False)
    _deleted_owner: int | None = None  # the account this tab deleted, for after_delete

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
            deleted = await asyncio.to_thread(samples.delete_account, user)
        except WebError as exc:
            self.error, self.deleting = str(exc), False
            return None
        # this tab keeps only the confirmation, for as long as it is shown
        await forget_user(self._get_root_state())
        self.deleted, self._deleted_owner = deleted, user.id
        return AccountState.after_delete

    @rx.event(background=True)
    async def after_delete(self):
        """Every other tab of the deleted account forgets it (off this tab's lock, see SampleState.after_delete);
        then this tab's confirmation is cleared once it left the page, or was closed."""
        async with self:  # claimed: a second call (the tab can send this event itself) finds nothing to do
            owner, self._deleted_owner = self._deleted_owner, None
            token = self.router.session.client_token
        if owner is None:
            return
        await in_user_tabs(owner, token, forget_user)
        await forget_notice_later(self, "/account", {"deleted": []})

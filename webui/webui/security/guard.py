"""The session guard: before any websocket event (hydration included) is handled, bind the tab's state to
the user of the session cookie its connection carries; when that user changed or the session ended, wipe
every user-bound state first, so nothing of one session is ever sent to a client without it.

The state then keeps only the SHA-256 of the session token: the guard removes the cookie (and any other
credential header) from the request headers Reflex copied into the state, before the state is stored
(in memory, or in Redis where other workers read it), so the raw token is never written anywhere."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from reflex.middleware import Middleware

from webui.security.cookies import session_token
from webui.security.tokens import new_token, token_digest

if TYPE_CHECKING:
    from reflex.state import BaseState

CREDENTIAL_HEADERS = frozenset({"cookie", "authorization", "proxy-authorization"})


def forget_credentials(root: Any) -> None:
    """Drop credential headers from the router data Reflex keeps on the tab's root state."""
    from reflex.istate.data import HeaderData

    headers = root.rx_router_headers
    if headers.cookie or any(key.lower() in CREDENTIAL_HEADERS for key in headers.raw_headers):
        raw = {k: v for k, v in headers.raw_headers.items() if k.lower() not in CREDENTIAL_HEADERS}
        root.rx_router_headers = HeaderData.from_router_data({"headers": raw})
    stored = root.router_data.get("headers")
    if isinstance(stored, dict) and any(key.lower() in CREDENTIAL_HEADERS for key in stored):
        clean = {k: v for k, v in stored.items() if k.lower() not in CREDENTIAL_HEADERS}
        root.router_data = {**root.router_data, "headers": clean}


def user_bound_states(root_class: type) -> list[type]:
    """`root_class` and every state class below it (they all hold data of the logged-in user)."""
    found = [root_class]
    for sub in root_class.get_substates():  # type: ignore[attr-defined]
        found.extend(user_bound_states(sub))
    return found


async def wipe_user_states(root: BaseState) -> None:
    """Reset every user-bound state of this tab to its defaults (all loaded first, so none survives)."""
    from webui.states.auth import AuthState

    classes = user_bound_states(AuthState)
    loaded: list[Any] = [await root.get_state(cls) for cls in classes]
    for state in loaded:
        state.reset()


class SessionGuard(Middleware):
    """Checks every event against the session cookie of its connection (see the module docstring)."""

    async def preprocess(self, app: Any, state: BaseState, event: Any) -> None:
        """Bind the state to the cookie's user before the event runs; wipe it when the user changed."""
        from webui.services import accounts
        from webui.states.auth import AuthState

        auth = await state.get_state(AuthState)
        headers = (getattr(event, "router_data", None) or {}).get("headers")
        if isinstance(headers, dict):  # an event from the tab's websocket: its connection's cookie decides
            token = session_token(headers.get("cookie"))
            user = await asyncio.to_thread(accounts.user_for_token, token) if token else None
            digest = token_digest(token) if user and token else ""
        else:  # an upload's request or a chained event: the connection's binding stands while its session lives
            digest = auth._session_digest
            user = await asyncio.to_thread(accounts.user_for_session, digest) if digest else None
        owner = user.id if user else None
        if auth._owner_id is not None and auth._owner_id != owner:
            await wipe_user_states(state)
        if auth._owner_id != owner or bool(auth.upload_key) != bool(owner):
            auth.upload_key = new_token() if owner else ""
        auth._owner_id = owner
        auth._session_digest = digest if user else ""
        if auth.user_name != (user.name if user else ""):
            auth.user_name = user.name if user else ""
        forget_credentials(auth._get_root_state())
        return None

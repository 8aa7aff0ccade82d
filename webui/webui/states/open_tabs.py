"""A user's open tabs: what a deletion removed is forgotten in every one of them, not only in the tab that asked.

Each tab's state lives on the server (in memory, or in Redis in lab mode, where it stays for
`redis_token_expiration` after the tab's last event, an hour by default). A sample or account deleted in one tab
stayed named in the user's other tabs (their sample page, run page and sample list) until those tabs' next events,
and in Redis for up to that hour after they were closed. `in_user_tabs` finds the tabs bound to a user (the session
guard records the owner in each tab's AuthState) and changes each under its own lock, pushing the change to the
tab if it is open. The tab that asked is changed by its own event, and calls `in_user_tabs` from a background
event after it, never while holding its own lock (two tabs deleting at once would each wait for the other's).

The deleting tab's own confirmation ("what went") is the one thing kept, for as long as it is shown:
`forget_notice_later` clears it once the tab left the page, or after NOTICE_SECONDS if the tab was closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import reflex as rx

from webui.states.auth import AuthState

if TYPE_CHECKING:
    from reflex.state import BaseState

NOTICE_SECONDS = 600.0  # longest a deletion's confirmation stays in a tab's server-side state
NOTICE_CHECK_SECONDS = 2.0

log = logging.getLogger(__name__)


def _app() -> Any:
    from webui.app import app  # imported when called: the app module imports the states

    return app


async def user_tab_tokens(user_id: int) -> list[str]:
    """The client tokens of the tabs bound to `user_id` as their stored AuthState says (read without their locks,
    so other people's tabs are never locked or loaded whole; `in_user_tabs` checks again under the lock)."""
    manager = _app().state_manager
    owned = []
    if hasattr(manager, "redis"):  # lab mode: one key per tab and state class; AuthState's names the tab
        suffix = "_" + AuthState.get_full_name()
        keys = [key async for key in manager.redis.scan_iter(match=f"*{suffix}", count=1000)]
        for start in range(0, len(keys), 500):
            batch = keys[start : start + 500]
            for key, data in zip(batch, await manager.redis.mget(batch), strict=True):
                if data is not None and _owner_of(data) == user_id:
                    name = key.decode() if isinstance(key, bytes) else str(key)
                    owned.append(name[: -len(suffix)])
        return owned
    path = AuthState.get_full_name().split(".")
    for token, root in list(getattr(manager, "states", {}).items()):
        with contextlib.suppress(ValueError, AttributeError):
            if root.get_substate(path)._owner_id == user_id:
                owned.append(token)
    return owned


def _owner_of(data: bytes) -> int | None:
    """The owner recorded in a stored AuthState (None if it cannot be read, e.g. written by older code)."""
    from reflex.state import BaseState

    try:
        return BaseState._deserialize(data=data)._owner_id  # type: ignore[attr-defined]
    except Exception:
        return None


async def in_user_tabs(
    user_id: int, except_token: str, change: Callable[[BaseState], Awaitable[None]]
) -> int:
    """Apply `change(root)` to every tab bound to `user_id` but `except_token`, each under its lock, pushing what
    changed to the tab; return how many were changed. A tab that cannot be changed is logged and skipped."""
    changed = 0
    for token in await user_tab_tokens(user_id):
        if token == except_token:
            continue
        try:
            async with _app().modify_state(rx.BaseStateToken(ident=token, cls=AuthState)) as root:
                auth = await root.get_state(AuthState)
                if auth._owner_id != user_id:
                    continue
                await change(root)
                changed += 1
        except Exception:  # one tab's state (say, written by older code) must not stop the deletion
            log.warning("could not update an open tab of user %s after a deletion", user_id, exc_info=True)
    return changed


async def forget_sample(root: BaseState, sample: str, keep_page: bool = False) -> None:
    """Forget `sample` in one tab: its sample page (unless `keep_page`: the deleting tab's page shows the
    confirmation), a run page of it, its row in the sample list."""
    from webui.states.run import RunState
    from webui.states.sample import SampleState
    from webui.states.samples import SamplesState

    page = await root.get_state(SampleState)
    if page.sample_name == sample and not keep_page:
        page.reset()
        page.not_found = True
        forget_location(root)  # "/sample?name=<sample>"
    run = await root.get_state(RunState)
    if run.sample_name == sample:
        run.clear_view()
        run.run_id, run.sample_name, run.not_found = "", "", True
    listing = await root.get_state(SamplesState)
    if any(row.get("name") == sample for row in listing.samples):
        listing.samples = [row for row in listing.samples if row.get("name") != sample]
    listing.upload_notice, listing.upload_error = "", ""  # may name it ("added <sample> ...")


async def forget_user(root: BaseState) -> None:
    """Forget everything of the tab's user (the tab then shows what a logged-out tab shows)."""
    from webui.security.guard import wipe_user_states

    await wipe_user_states(root)
    auth = await root.get_state(AuthState)
    auth._owner_id, auth._session_digest, auth.upload_key = None, "", ""
    forget_location(root)


def forget_location(root: BaseState) -> None:
    """Forget the tab's page address as the server keeps it (it may name a sample); the tab's next event brings
    its address again (Reflex rebuilds what its previous router data lacks). The matched route stays."""
    from reflex.constants.route import ROUTER_DATA_INCLUDE
    from reflex.istate.data import PageData, URLData

    root.rx_router_page, root.rx_router_url = PageData(), URLData()  # type: ignore[attr-defined]
    root.router_data = {
        key: value for key, value in root.router_data.items() if key not in ROUTER_DATA_INCLUDE
    }


async def forget_notice_later(state: AuthState, route: str, cleared: dict[str, Any]) -> None:
    """Set the fields of `state` that hold a deletion's confirmation to their `cleared` values once the tab left
    `route`, or after NOTICE_SECONDS (a closed tab sends nothing more); a new confirmation shown meanwhile is left
    to its own call."""
    from webui.states.status_watch import on_page

    def shown_now() -> str:  # a plain copy: the state's own values are proxies valid only while it is held
        return repr([getattr(state, name) for name in cleared])

    async with state:
        shown = shown_now()
    begun = time.monotonic()
    while time.monotonic() - begun < NOTICE_SECONDS:
        await asyncio.sleep(NOTICE_CHECK_SECONDS)
        async with state:
            if shown_now() != shown:
                return
            if not on_page(state, route):
                break
    try:
        async with state:
            if shown_now() == shown:
                for name, value in cleared.items():
                    setattr(state, name, value)
    except Exception:  # the app stopping: the tab's state then expires as it is
        log.warning("could not clear a deletion's confirmation", exc_info=True)

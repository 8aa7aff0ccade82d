"""Keep a page's sample statuses current while a run of theirs is queued or running.

The home page and the sample page show each sample's status (and the sample page its runs, report and downloads)
as read when the page loaded: a run that ended meanwhile still read "running" until a reload. Each page's
background handler calls `watch_statuses`, which re-reads them every WATCH_SECONDS while any is unfinished and
pushes what changed, checking the session first every time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

from webui.services import accounts
from webui.services.errors import WebError
from webui.states.auth import AuthState

WATCH_SECONDS = 2.0
MAX_WATCH_SECONDS = 12 * 3600
TAKEN = "taken:"  # a ticket a loop has claimed (take_ticket)
WATCH_TICKET = "_watch_ticket"  # the field of a page's state holding its load's ticket for the status loop
UNFINISHED = frozenset({"queued", "running"})  # sample statuses (services.samples.STATUS_BY_RUN) that change

Read = TypeVar("Read")


def set_changed(state: AuthState, **values: object) -> None:
    """Set each field to its value unless equal already (an equal value set would still be sent to the tab)."""
    for name, value in values.items():
        if getattr(state, name) != value:
            setattr(state, name, value)


def on_page(state: AuthState, route: str) -> bool:
    """Whether the tab's last event came from the page at `route` ("" before any page event counts as on it; the
    router names the home page "/index")."""
    current = state.router.route_id.strip("/")
    return current == "" or current == route.strip("/") or (current == "index" and route.strip("/") == "")


def take_ticket(state: AuthState, field: str) -> str | None:
    """Claim the ticket a page load issued (in the private field `field`) for the one loop that load started.

    Returns the claimed value, which the loop then compares with the field to know it is still the page's; None
    when a loop holds it already or none was issued: the tab can send a background event itself, and each copy
    was one more loop re-reading every few seconds for as long as the run went on. Called with the state held.
    """
    issued = getattr(state, field)
    if not issued or issued.startswith(TAKEN):
        return None
    claimed = TAKEN + issued
    setattr(state, field, claimed)
    return claimed


async def watch_statuses(
    state: AuthState,
    route: str,
    field: str,
    claimed: str,
    read: Callable[[accounts.CurrentUser], Read],
    show: Callable[[accounts.CurrentUser, Read], bool],
) -> None:
    """Re-read with `read(user)` (in a thread) every WATCH_SECONDS and apply it with `show(user, found)` (state
    held), which says whether anything shown is still unfinished; stop when nothing is, when the tab left `route`,
    when its session ended or changed hands, or when the page was loaded again (its ticket `field` no longer the
    `claimed` one, see take_ticket)."""
    async with state:
        digest, owner = state._session_digest, state._owner_id
    user = await asyncio.to_thread(accounts.user_for_session, digest)
    if user is None or user.id != owner:
        return
    begun = time.monotonic()
    while time.monotonic() - begun < MAX_WATCH_SECONDS:
        await asyncio.sleep(WATCH_SECONDS)
        if await asyncio.to_thread(accounts.user_for_session, digest) != user:
            return
        try:
            found = await asyncio.to_thread(read, user)
        except WebError:  # the sample went (deleted in another tab): the page says so when loaded again
            return
        async with state:
            held = state._owner_id == user.id and state._session_digest == digest
            if not held or getattr(state, field) != claimed or not on_page(state, route):
                return
            if not show(user, found):
                return

"""The Reflex app: the pages, the owner-checked file routes mounted next to Reflex's backend, and warm-up."""

import asyncio
import logging

import reflex as rx

from just_dna_pipelines import service
from webui.pages import account, index, login, run, sample, signup  # noqa: F401  (registers the pages)
from webui.redis_locks import guard_redis_locks
from webui.routes import file_routes
from webui.security.guard import SessionGuard

guard_redis_locks()  # before any tab's state is locked (with REDIS_URL; harmless without)

app = rx.App(api_transformer=file_routes())
# First of all middlewares, hydration included: no state reaches a tab without a live session.
app.add_middleware(SessionGuard(), index=0)


async def warm_up_runs() -> None:
    """Start the pipelines' warm run worker off the event loop, so the first Run click starts at once."""
    try:
        await asyncio.to_thread(service.warm_up)
    except Exception as exc:  # runs still work without it: each then starts its own process
        logging.getLogger(__name__).warning("run worker warm-up failed: %s", exc)


app.register_lifespan_task(warm_up_runs)

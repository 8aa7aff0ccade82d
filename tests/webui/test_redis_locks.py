"""A tab's state lock in Redis (webui.redis_locks): an event cancelled while its lock's grant or release is on the
wire (Reflex cancels a page's on-load chain when the page is left or reloaded), or a release notice that never
arrives, must not make the tab's next event wait for the lock's expiry (seen as 30 s page moves under load with
two backend workers). Each case on a real Redis, with two state managers standing for two backend workers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from webui.engines import RedisServer
from webui.redis_locks import RECHECK_SECONDS, guard_redis_locks

EXPIRY_MS = 4_000


def cancel_after_the_grant(manager: Any) -> None:
    """Redis sets the lock; the event is cancelled before the reply reaches it."""
    grant = manager._try_get_lock

    async def granted_then_cancelled(lock_key: bytes, lock_id: bytes) -> bool | None:
        got = await grant(lock_key, lock_id)
        if got:
            cancel_this_task()
            await asyncio.sleep(0)
        return got

    manager._try_get_lock = granted_then_cancelled


def cancel_the_release(manager: Any) -> None:
    """The event is cancelled as it releases the lock, before its GETDEL reaches Redis."""

    async def cancelled_release(key: bytes) -> bytes | None:
        cancel_this_task()
        await asyncio.sleep(0)
        return None

    manager.redis.getdel = cancelled_release


def lose_release_notices(manager: Any) -> None:
    """Redis's notices of released locks never reach this worker."""

    async def ignored(message: Any) -> None:
        return None

    manager._handle_lock_release = ignored


def cancel_this_task() -> None:
    task = asyncio.current_task()
    assert task is not None
    task.cancel()


async def wait_for_the_lock(url: str, sabotage: Callable[[Any], None]) -> float:
    """Seconds an event waits for a tab's lock after one sabotaged event of the tab (see the cases)."""
    from redis.asyncio import Redis
    from reflex.istate.manager.redis import StateManagerRedis

    def worker() -> StateManagerRedis:  # one backend worker's state manager
        return StateManagerRedis(
            redis=Redis.from_url(url), lock_expiration=EXPIRY_MS, lock_warning_threshold=1_000
        )

    manager, other_worker = worker(), worker()
    sabotage(manager)
    tab = SimpleNamespace(lock_key=f"tab-{time.monotonic_ns()}")  # what the manager reads of a state token

    async def take(worker: StateManagerRedis, hold: asyncio.Event | None = None) -> float:
        async with worker._lock(tab):  # type: ignore[arg-type]
            got = time.monotonic()
            if hold is not None:
                await hold.wait()
            return got

    if sabotage is lose_release_notices:  # the other worker holds the lock; this one waits for its release
        release = asyncio.Event()
        holder = asyncio.create_task(take(other_worker, release))
        await asyncio.sleep(0.3)
        waiter = asyncio.create_task(take(manager))
        await asyncio.sleep(0.3)
        begun = time.monotonic()
        release.set()
        await holder
        got = await asyncio.wait_for(waiter, EXPIRY_MS / 1000 * 3)
    else:  # the sabotaged event of this worker, then the other worker's
        sabotaged = asyncio.create_task(take(manager))
        await asyncio.gather(sabotaged, return_exceptions=True)
        assert sabotaged.cancelled()
        begun = time.monotonic()
        got = await asyncio.wait_for(take(other_worker), EXPIRY_MS / 1000 * 3)
    await manager.close()
    await other_worker.close()
    return got - begun


@pytest.mark.parametrize("sabotage", [cancel_after_the_grant, cancel_the_release, lose_release_notices])
def test_the_next_event_gets_the_lock_without_waiting_for_its_expiry(
    redis_server: RedisServer, sabotage: Callable[[Any], None]
) -> None:
    guard_redis_locks()
    delay = asyncio.run(wait_for_the_lock(redis_server.url, sabotage))
    assert delay < RECHECK_SECONDS + 0.5 < EXPIRY_MS / 1000, f"the lock came after {delay:.2f} s (its expiry)"

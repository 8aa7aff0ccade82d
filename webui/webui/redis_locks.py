"""A tab's state lock in Redis, kept from outliving the event that took it and from being waited for in vain.

Reflex's Redis state manager takes a tab's lock with `SET NX`, releases it with `GETDEL`, and wakes the tab's
waiting events when Redis notifies it of the release; a waiter that is not woken re-checks only when the lock's
expiry has passed (`redis_lock_expiration`, 30 s here). Ten people on two backend workers saw page moves of 30 s:
Reflex cancels a page's on-load chain when the tab leaves or reloads the page, and an event cancelled while its
grant or its release was on the wire left the lock set for nobody. Three guards, applied to the manager class:
- a wait that ends in an exception gives the lock back if Redis had granted it;
- a lock is given back when its holder's exit ended in an exception (its release may not have finished);
- a waiting event re-checks the lock every RECHECK_SECONDS besides being woken, so a lost wake-up costs that
  long, not the expiry.
Giving back is a compare-and-delete on the lock's own id, so never someone else's lock; the delete wakes the tab's
waiters in every worker as a normal release does."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

# Delete the lock only while it still holds this id.
RELEASE_IF_OURS = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
)
RECHECK_SECONDS = 0.5


async def give_back(manager: Any, lock_key: bytes, lock_id: bytes) -> None:
    """Delete the lock if it is still `lock_id`'s, even if the caller is being cancelled."""
    with contextlib.suppress(Exception):  # Redis gone: the lock expires there anyway
        await asyncio.shield(manager.redis.eval(RELEASE_IF_OURS, 1, lock_key, lock_id))


async def keep_waking(manager: Any, lock_key: bytes) -> None:
    """Wake the next waiter of `lock_key` every RECHECK_SECONDS (it re-checks the lock, or waits on)."""
    while True:
        await asyncio.sleep(RECHECK_SECONDS)
        manager._notify_next_waiter(lock_key)


def guard_redis_locks() -> None:
    """Apply the module docstring's guards to Reflex's Redis state manager (once; later calls do nothing)."""
    from reflex.istate.manager.redis import StateManagerRedis

    wait, lock = StateManagerRedis._wait_lock, StateManagerRedis._lock
    if getattr(wait, "guarded", False):
        return

    async def guarded_wait(self: Any, lock_key: bytes, lock_id: bytes) -> None:
        waking = asyncio.create_task(keep_waking(self, lock_key))
        try:
            await wait(self, lock_key, lock_id)
        except BaseException:
            await give_back(self, lock_key, lock_id)
            raise
        finally:
            waking.cancel()

    @contextlib.asynccontextmanager
    async def guarded_lock(self: Any, token: Any, event_name: str | None = None) -> AsyncIterator[bytes]:
        held: bytes | None = None
        try:
            async with lock(self, token, event_name) as lock_id:
                held = lock_id
                yield lock_id
        except BaseException:  # a normal exit has released the lock; this one may have been cut short
            if held is not None:
                await give_back(self, self._lock_key(token), held)
            raise

    guarded_wait.guarded = True  # type: ignore[attr-defined]
    StateManagerRedis._wait_lock = guarded_wait  # type: ignore[method-assign]
    StateManagerRedis._lock = guarded_lock  # type: ignore[method-assign,assignment]

"""Login throttling: a progressive delay per (name, client address) pair and per client address; sign-ups per address.

Each attempt first reserves its place (a row) and only then counts the attempts before it, so parallel
guesses cannot all slip through; rows older than the window are deleted by the next attempt. The delay grows
with each failure of the same pair, so someone guessing from elsewhere slows themselves down and never locks
the rightful owner out of their own address.
"""

from __future__ import annotations

import math
import time

from sqlmodel import col, delete, select

from webui.config import get_web_settings
from webui.db import LoginFailure, db_session, lock_for_key

ADDRESS_BUDGET_FACTOR = 4  # one address may fail this many times the per-pair budget (over all names)


class Throttled(Exception):
    """A login attempt that came too soon after earlier failures; the message says how long to wait."""


def _keys(name: str, address: str) -> list[tuple[str, int]]:
    """The throttling keys of an attempt and how many failures each may have before delays start."""
    free = get_web_settings().login_max_failures
    keys = [(f"pair:{name}|{address}", free)]
    if address:
        keys.append((f"addr:{address}", free * ADDRESS_BUDGET_FACTOR))
    return keys


def required_wait(failures_before: int, free: int) -> float:
    """Seconds to wait after the latest failure, given how many failures came before this attempt."""
    if failures_before < free:
        return 0.0
    settings = get_web_settings()
    return min(
        settings.login_max_delay_seconds, settings.login_base_delay_seconds * 2 ** (failures_before - free)
    )


def reserve_attempt(name: str, address: str) -> list[int]:
    """Record the attempt as a failure-to-be and return its row ids; raise Throttled when it comes too soon."""
    return _reserve(_keys(name, address), "too many failed logins")


def reserve_sign_up(address: str) -> None:
    """Count a sign-up from `address` (made or refused as taken alike); raise Throttled when it comes too soon.

    Each account costs a slow password hash, and "the name is taken" tells which names exist: one address may
    sign up `signup_max_per_window` times in the window without delay, then waits ever longer, as logins do.
    Nothing is counted without an address (a caller outside the web app).
    """
    if address:
        _reserve(
            [(f"signup:{address}", get_web_settings().signup_max_per_window)], "too many sign-ups from here"
        )


def _reserve(keys: list[tuple[str, int]], what: str) -> list[int]:
    """Add a row for each key, then raise Throttled (rows removed) when one of them has had its budget lately."""
    settings = get_web_settings()
    now = time.time()
    window_start = now - settings.login_window_seconds
    reserved: list[int] = []
    with db_session() as db:
        # Rows past the window count for nothing; they go, so no address or mistyped name stays for good.
        db.exec(delete(LoginFailure).where(col(LoginFailure.at) <= window_start))
        db.commit()
        for key, _ in keys:
            lock_for_key(db, key)  # ids of one key then follow commit order, so "earlier" is exact
            row = LoginFailure(key=key, at=now)
            db.add(row)
            db.commit()
            assert row.id is not None
            reserved.append(row.id)
        for (key, free), row_id in zip(keys, reserved, strict=True):
            earlier = db.exec(
                select(LoginFailure.at)
                .where(LoginFailure.key == key, LoginFailure.at > window_start, col(LoginFailure.id) < row_id)
                .order_by(col(LoginFailure.id))
            ).all()
            wait = required_wait(len(earlier), free)
            if wait and now < earlier[-1] + wait:
                db.exec(delete(LoginFailure).where(col(LoginFailure.id).in_(reserved)))
                db.commit()
                seconds = max(1, math.ceil(earlier[-1] + wait - now))
                raise Throttled(f"{what}; try again in {seconds} s")
    return reserved


def forget_failures(name: str, address: str) -> None:
    """After a successful login: clear the pair's failures (the address keeps its own count)."""
    key = _keys(name, address)[0][0]
    with db_session() as db:
        db.exec(delete(LoginFailure).where(col(LoginFailure.key) == key))
        db.commit()


def release_attempt(reserved: list[int]) -> None:
    """Drop the reservation of an attempt that turned out right (it was not a failure)."""
    with db_session() as db:
        db.exec(delete(LoginFailure).where(col(LoginFailure.id).in_(reserved)))
        db.commit()


def client_address(peer: str, forwarded_for: str | None) -> str:
    """The client's address: the peer, or the last untrusted hop of X-Forwarded-For behind a trusted proxy."""
    proxies = get_web_settings().proxies()
    if peer not in proxies or not forwarded_for:
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop not in proxies:
            return hop
    return peer

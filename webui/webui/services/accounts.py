"""Sign-up, login with throttling, one-time login tickets, sessions that expire, logout, module choice."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select

from just_dna_pipelines.keys import InvalidKeyError, validate_name
from webui.config import get_web_settings
from webui.db import AuthSession, LoginTicket, ModuleChoice, User, db_session
from webui.security import hash_password, new_token, password_problem, token_digest, verify_password
from webui.security.throttle import (
    Throttled,
    forget_failures,
    release_attempt,
    reserve_attempt,
    reserve_sign_up,
)
from webui.services.errors import AuthError, WebError

LOGIN_FAILED = "wrong user name or password"
TICKET_SECONDS = 60


@dataclass(frozen=True)
class CurrentUser:
    """The authenticated user behind a session token."""

    id: int
    name: str


def _lower_case(name: str) -> str:
    """A typed user name in lower case, where it is plain ASCII: other letters may lower-case to one of it ("\u212aate",
    KELVIN SIGN, to "kate"), so they are kept as typed (and refused as invalid, or found as nobody's)."""
    stripped = name.strip()
    return stripped.lower() if stripped.isascii() else stripped


def normalize_name(name: str) -> str:
    """The canonical (lower-case, validated) form of a user name; raises AuthError if unusable."""
    try:
        return validate_name(_lower_case(name), "user name")
    except InvalidKeyError as exc:
        raise AuthError(str(exc)) from exc


def sign_up(name: str, password: str, address: str = "") -> CurrentUser:
    """Create an account; raise AuthError if the name is invalid or taken, the password is weak, or `address` (the
    client's) has signed up too often lately (throttle.reserve_sign_up)."""
    name = normalize_name(name)
    if problem := password_problem(password, name):
        raise AuthError(problem)
    try:
        reserve_sign_up(address)
    except Throttled as exc:
        raise AuthError(str(exc)) from None
    with db_session() as db:
        if db.exec(select(User).where(User.name == name)).first() is not None:
            raise AuthError(f"the user name {name} is taken")
        user = User(name=name, password_hash=hash_password(password))
        db.add(user)
        try:
            db.commit()
        except IntegrityError:  # taken by a sign-up that committed in between
            raise AuthError(f"the user name {name} is taken") from None
        db.refresh(user)
        assert user.id is not None
        return CurrentUser(user.id, user.name)


def log_in(name: str, password: str, address: str = "") -> CurrentUser:
    """Check credentials; return the user. Throttled per (name, address) and per address.

    The error never says whether the account exists.
    """
    canonical = _lower_case(name)[:64]
    try:
        reserved = reserve_attempt(canonical, address)
    except Throttled as exc:
        raise AuthError(str(exc)) from None
    with db_session() as db:
        user = db.exec(select(User).where(User.name == canonical)).first()
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise AuthError(LOGIN_FAILED)  # the reservation stays: it was a failure
    release_attempt(reserved)
    forget_failures(canonical, address)
    assert user.id is not None
    return CurrentUser(user.id, user.name)


def check_password(user: CurrentUser, password: str) -> bool:
    """Whether `password` is the user's current password (to confirm a destructive action)."""
    with db_session() as db:
        row = db.get(User, user.id)
    return row is not None and verify_password(row.password_hash, password)


def issue_login_ticket(user: CurrentUser, next_url: str) -> str:
    """A one-time ticket (valid TICKET_SECONDS) the browser trades for the session cookie at /auth/enter."""
    ticket = new_token()
    with db_session() as db:
        db.exec(delete(LoginTicket).where(col(LoginTicket.expires_at) < time.time()))
        db.add(
            LoginTicket(
                ticket_hash=token_digest(ticket),
                user_id=user.id,
                next_url=next_url,
                expires_at=time.time() + TICKET_SECONDS,
            )
        )
        db.commit()
    return ticket


def redeem_login_ticket(ticket: str) -> tuple[str, str] | None:
    """Consume a ticket (once): open a session and return (session token, next URL); None if invalid."""
    if not ticket or len(ticket) > 128:
        return None
    digest = token_digest(ticket)
    with db_session() as db:
        row = db.exec(select(LoginTicket).where(LoginTicket.ticket_hash == digest)).first()
        if row is None:
            return None
        # Deleting it is the claim: of two redemptions racing, only the one that deleted the row wins.
        claimed = db.exec(delete(LoginTicket).where(col(LoginTicket.id) == row.id))
        db.commit()
        if claimed.rowcount != 1 or row.expires_at < time.time():
            return None
        user = db.get(User, row.user_id)
    if user is None or user.id is None:
        return None
    return open_session(CurrentUser(user.id, user.name)), row.next_url


def open_session(user: CurrentUser) -> str:
    """Start a session for `user` and return its token."""
    token = new_token()
    expires = time.time() + get_web_settings().session_seconds
    with db_session() as db:
        db.add(AuthSession(token_hash=token_digest(token), user_id=user.id, expires_at=expires))
        db.commit()
    return token


def user_for_token(token: str | None) -> CurrentUser | None:
    """The user of a live session token, or None if the token is unknown or expired (expired ones are removed)."""
    if not token or len(token) > 128:
        return None
    return user_for_session(token_digest(token))


def user_for_session(digest: str) -> CurrentUser | None:
    """The user of the live session whose token has this digest (what web-app state keeps instead of the token)."""
    if not digest:
        return None
    with db_session() as db:
        row = db.exec(select(AuthSession).where(AuthSession.token_hash == digest)).first()
        if row is None:
            return None
        if row.expires_at <= time.time():
            db.delete(row)
            db.commit()
            return None
        user = db.get(User, row.user_id)
        return CurrentUser(user.id, user.name) if user and user.id is not None else None


def require_user(token: str | None) -> CurrentUser:
    """The user of a live session token; raise AuthError if there is none."""
    user = user_for_token(token)
    if user is None:
        raise AuthError("please log in")
    return user


def log_out(token: str | None) -> None:
    """End the session of `token` (no-op if unknown)."""
    if token:
        end_session(token_digest(token))


def end_session(digest: str) -> None:
    """End the session whose token has this digest (no-op if unknown)."""
    if digest:
        with db_session() as db:
            db.exec(delete(AuthSession).where(col(AuthSession.token_hash) == digest))
            db.commit()


def remembered_modules(user: CurrentUser) -> list[str] | None:
    """The modules the user ticked last time, or None if never chosen."""
    with db_session() as db:
        row = db.get(ModuleChoice, user.id)
        return [m for m in row.modules.split(",") if m] if row else None


def remember_modules(user: CurrentUser, modules: list[str]) -> None:
    """Store the user's module choice for next time (the last one stored wins)."""
    text = ",".join(modules)
    for _ in range(3):
        with db_session() as db:
            row = db.get(ModuleChoice, user.id) or ModuleChoice(user_id=user.id, modules=text)
            row.modules = text
            db.add(row)
            try:
                db.commit()
                return
            except IntegrityError:  # another tab stored a first choice in between: update that one
                db.rollback()
    raise WebError("your module choice could not be saved; try again")

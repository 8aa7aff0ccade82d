"""Sign-up, login with throttling, sessions that expire, logout and account deletion."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlmodel import col, delete, select

from just_dna_pipelines.keys import InvalidKeyError, validate_name
from webui import security
from webui.config import get_web_settings
from webui.db import AuthSession, LoginFailure, ModuleChoice, User, db_session
from webui.services.errors import AuthError

LOGIN_FAILED = "wrong user name or password"


@dataclass(frozen=True)
class CurrentUser:
    """The authenticated user behind a session token."""

    id: int
    name: str


def normalize_name(name: str) -> str:
    """The canonical (lower-case, validated) form of a user name; raises AuthError if unusable."""
    try:
        return validate_name(name.strip().lower(), "user name")
    except InvalidKeyError as exc:
        raise AuthError(str(exc)) from exc


def sign_up(name: str, password: str) -> CurrentUser:
    """Create an account; raise AuthError if the name is invalid or taken or the password too short."""
    name = normalize_name(name)
    minimum = get_web_settings().min_password_length
    if len(password) < minimum:
        raise AuthError(f"password too short: use at least {minimum} characters")
    with db_session() as db:
        if db.exec(select(User).where(User.name == name)).first() is not None:
            raise AuthError(f"the user name {name!r} is taken")
        user = User(name=name, password_hash=security.hash_password(password))
        db.add(user)
        db.commit()
        db.refresh(user)
        assert user.id is not None
        return CurrentUser(user.id, user.name)


def _recent_failures(key: str, now: float) -> list[float]:
    """Times of failed logins for `key` inside the throttling window."""
    window = get_web_settings().login_window_seconds
    with db_session() as db:
        rows = db.exec(select(LoginFailure.at).where(LoginFailure.key == key, LoginFailure.at > now - window))
        return sorted(rows.all())


def log_in(name: str, password: str, client: str = "") -> tuple[CurrentUser, str]:
    """Check credentials and open a session; return the user and the session token.

    The error never says whether the account exists. After too many failures for a name (or a client
    address) inside the window, logins for it are refused until the oldest failure leaves the window.
    """
    settings = get_web_settings()
    now = time.time()
    key_name = f"name:{name.strip().lower()}"
    keys = [key_name] + ([f"client:{client}"] if client else [])
    for key in keys:
        failures = _recent_failures(key, now)
        limit = settings.login_max_failures * (4 if key.startswith("client:") else 1)
        if len(failures) >= limit:
            wait = int(failures[0] + settings.login_window_seconds - now) + 1
            raise AuthError(f"too many failed logins; try again in {wait} s")
    with db_session() as db:
        user = db.exec(select(User).where(User.name == name.strip().lower())).first()
        if not security.verify_password(user.password_hash if user else None, password) or user is None:
            for key in keys:
                db.add(LoginFailure(key=key, at=now))
            db.commit()
            raise AuthError(LOGIN_FAILED)
        db.exec(delete(LoginFailure).where(col(LoginFailure.key) == key_name))
        assert user.id is not None
        current = CurrentUser(user.id, user.name)
        db.commit()
    return current, open_session(current)


def open_session(user: CurrentUser) -> str:
    """Start a session for `user` and return its token."""
    token = security.new_token()
    expires = time.time() + get_web_settings().session_hours * 3600
    with db_session() as db:
        db.add(AuthSession(token_hash=security.token_digest(token), user_id=user.id, expires_at=expires))
        db.commit()
    return token


def user_for_token(token: str | None) -> CurrentUser | None:
    """The user of a live session token, or None if the token is unknown or expired (expired ones are removed)."""
    if not token:
        return None
    digest = security.token_digest(token)
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
        with db_session() as db:
            db.exec(delete(AuthSession).where(col(AuthSession.token_hash) == security.token_digest(token)))
            db.commit()


def remembered_modules(user: CurrentUser) -> list[str] | None:
    """The modules the user ticked last time, or None if never chosen."""
    with db_session() as db:
        row = db.get(ModuleChoice, user.id)
        return [m for m in row.modules.split(",") if m] if row else None


def remember_modules(user: CurrentUser, modules: list[str]) -> None:
    """Store the user's module choice for next time."""
    with db_session() as db:
        row = db.get(ModuleChoice, user.id) or ModuleChoice(user_id=user.id, modules="")
        row.modules = ",".join(modules)
        db.add(row)
        db.commit()

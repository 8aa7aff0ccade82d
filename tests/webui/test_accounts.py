"""Sign-up, login, sessions that expire, throttling, logout and remembered modules."""

import time

import pytest
from sqlmodel import select

from webui.config import get_web_settings
from webui.db import AuthSession, User, db_session
from webui.services import accounts
from webui.services.errors import AuthError


def test_sign_up_normalizes_and_validates_the_name(web_env):
    user = accounts.sign_up("  Alice ", "correct horse battery")
    assert user.name == "alice"
    with pytest.raises(AuthError, match="taken"):
        accounts.sign_up("ALICE", "correct horse battery")
    for bad in ("../etc", "a/b", "", ".."):
        with pytest.raises(AuthError, match="invalid user name"):
            accounts.sign_up(bad, "correct horse battery")
    with pytest.raises(AuthError, match="at least 8"):
        accounts.sign_up("carol", "short")


def test_password_is_stored_hashed(alice):
    with db_session() as db:
        row = db.exec(select(User).where(User.name == "alice")).one()
    assert row.password_hash.startswith("$argon2id$")
    assert "correct horse" not in row.password_hash


def test_login_gives_a_session_and_logout_ends_it(alice):
    user, token = accounts.log_in("alice", "correct horse battery")
    assert user == alice
    assert accounts.user_for_token(token) == alice
    with db_session() as db:
        stored = db.exec(select(AuthSession)).all()
    assert token not in {s.token_hash for s in stored}  # only the digest is kept
    accounts.log_out(token)
    assert accounts.user_for_token(token) is None
    with pytest.raises(AuthError):
        accounts.require_user(token)


def test_login_errors_do_not_tell_whether_the_account_exists(alice):
    with pytest.raises(AuthError) as wrong_password:
        accounts.log_in("alice", "wrong password!")
    with pytest.raises(AuthError) as no_account:
        accounts.log_in("nobody", "wrong password!")
    assert str(wrong_password.value) == str(no_account.value) == accounts.LOGIN_FAILED


def test_sessions_expire(alice, monkeypatch):
    monkeypatch.setenv("JUST_DNA_WEBUI_SESSION_HOURS", "0.0001")  # 0.36 s
    get_web_settings.cache_clear()
    _, token = accounts.log_in("alice", "correct horse battery")
    assert accounts.user_for_token(token) == alice
    with db_session() as db:
        session = db.exec(select(AuthSession)).one()
        session.expires_at = time.time() - 1
        db.add(session)
        db.commit()
    assert accounts.user_for_token(token) is None
    with db_session() as db:
        assert db.exec(select(AuthSession)).all() == []  # expired sessions are removed


def test_unknown_or_empty_tokens_are_refused(web_env):
    assert accounts.user_for_token("") is None
    assert accounts.user_for_token(None) is None
    assert accounts.user_for_token("made-up-token") is None


def test_repeated_failures_are_throttled_even_with_the_right_password(alice, monkeypatch):
    monkeypatch.setenv("JUST_DNA_WEBUI_LOGIN_MAX_FAILURES", "3")
    get_web_settings.cache_clear()
    for _ in range(3):
        with pytest.raises(AuthError, match="wrong user name or password"):
            accounts.log_in("alice", "guess guess")
    with pytest.raises(AuthError, match="too many failed logins"):
        accounts.log_in("alice", "correct horse battery")
    # Throttling applies to names that do not exist too, so it reveals nothing.
    for _ in range(3):
        with pytest.raises(AuthError, match="wrong user name or password"):
            accounts.log_in("ghost", "guess guess")
    with pytest.raises(AuthError, match="too many failed logins"):
        accounts.log_in("ghost", "guess guess")


def test_throttle_window_passes(alice, monkeypatch):
    monkeypatch.setenv("JUST_DNA_WEBUI_LOGIN_MAX_FAILURES", "2")
    monkeypatch.setenv("JUST_DNA_WEBUI_LOGIN_WINDOW_SECONDS", "1")
    get_web_settings.cache_clear()
    for _ in range(2):
        with pytest.raises(AuthError):
            accounts.log_in("alice", "guess guess")
    with pytest.raises(AuthError, match="too many"):
        accounts.log_in("alice", "correct horse battery")
    time.sleep(1.1)
    user, _ = accounts.log_in("alice", "correct horse battery")
    assert user == alice


def test_throttle_per_client_address(alice, bob, monkeypatch):
    monkeypatch.setenv("JUST_DNA_WEBUI_LOGIN_MAX_FAILURES", "1")  # 4 per client address
    get_web_settings.cache_clear()
    for name in ("u1", "u2", "u3", "u4"):
        with pytest.raises(AuthError, match="wrong"):
            accounts.log_in(name, "guess guess", client="10.0.0.9")
    with pytest.raises(AuthError, match="too many"):
        accounts.log_in("bob", "another long secret", client="10.0.0.9")
    user, _ = accounts.log_in("bob", "another long secret", client="10.0.0.10")
    assert user == bob


def test_module_choice_is_remembered_per_user(alice, bob):
    assert accounts.remembered_modules(alice) is None
    accounts.remember_modules(alice, ["longevitymap", "vo2max"])
    accounts.remember_modules(alice, ["coronary"])
    assert accounts.remembered_modules(alice) == ["coronary"]
    assert accounts.remembered_modules(bob) is None

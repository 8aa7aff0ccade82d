"""Sign-up and its password policy, login, one-time tickets, sessions that expire, throttling, logout."""

import threading
import time

import pytest
from sqlmodel import select

from webui.config import get_web_settings
from webui.db import AuthSession, LoginFailure, LoginTicket, ModuleChoice, User, db_session
from webui.security.throttle import client_address
from webui.services import accounts
from webui.services.errors import AuthError

# Every account rule holds on both databases the app supports (PostgreSQL: a real server, see conftest).
pytestmark = pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)


@pytest.fixture(autouse=True)
def _long_delays(monkeypatch):
    """Delays far longer than any test step, so a slow machine never lets one lapse by accident."""
    monkeypatch.setenv("JUST_DNA_WEBUI_LOGIN_BASE_DELAY_SECONDS", "100")
    monkeypatch.setenv("JUST_DNA_WEBUI_LOGIN_MAX_DELAY_SECONDS", "300")
    get_web_settings.cache_clear()


def _session(name: str, password: str, address: str = "") -> str:
    """Log in and open a session the way the /auth/enter route does; return its token."""
    user = accounts.log_in(name, password, address)
    redeemed = accounts.redeem_login_ticket(accounts.issue_login_ticket(user, "http://127.0.0.1:3000/"))
    assert redeemed is not None
    return redeemed[0]


def test_sign_up_normalizes_and_validates_the_name(web_env):
    user = accounts.sign_up("  Alice ", "correct horse battery")
    assert user.name == "alice"
    with pytest.raises(AuthError, match="taken"):
        accounts.sign_up("ALICE", "correct horse battery")
    for bad in ("../etc", "a/b", "", ".."):
        with pytest.raises(AuthError, match="invalid user name"):
            accounts.sign_up(bad, "correct horse battery")


def test_a_name_that_only_lower_cases_to_another_is_not_that_name(web_env):
    """The name "\u212aate" (KELVIN SIGN, drawn like K) lower-cases to "kate": its sign-up made the account "kate",
    and logging in as it was logging in as kate. A name that is not plain ASCII is refused as it is typed."""
    accounts.sign_up("kate", "correct horse battery")
    for lookalike in ("\u212aate", "\u212aATE"):
        with pytest.raises(AuthError, match="invalid user name"):
            accounts.sign_up(lookalike, "correct horse battery")
        with pytest.raises(AuthError, match=accounts.LOGIN_FAILED):
            accounts.log_in(lookalike, "correct horse battery")
    assert accounts.log_in("KATE", "correct horse battery").name == "kate"


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 8"),
        ("12345678", "too easy to guess"),
        ("password1234", "too easy to guess"),
        ("carolcarol", "too easy to guess"),  # the user name, doubled
        (" " * 8, "only spaces"),
        ("\x00" * 8, "control characters"),
        ("tab\tinside a phrase", "control characters"),
        ("x" * 200_000, "too long"),
    ],
)
def test_weak_or_absurd_passwords_are_refused(web_env, password, reason):
    with pytest.raises(AuthError, match=reason):
        accounts.sign_up("carol", password)


def test_good_passphrases_are_accepted(web_env):
    assert accounts.sign_up("dave", "purple elephant marmalade").name == "dave"
    assert accounts.sign_up("erin", "Tr0ub4dor&3 is not enough?" + "x" * 200).name == "erin"


def test_password_is_stored_hashed(alice):
    with db_session() as db:
        row = db.exec(select(User).where(User.name == "alice")).one()
    assert row.password_hash.startswith("$argon2id$")
    assert "correct horse" not in row.password_hash


def test_ticket_opens_one_session_once_and_logout_ends_it(alice):
    user = accounts.log_in("alice", "correct horse battery")
    assert user == alice
    ticket = accounts.issue_login_ticket(user, "http://127.0.0.1:3000/")
    redeemed = accounts.redeem_login_ticket(ticket)
    assert redeemed is not None
    token, next_url = redeemed
    assert next_url == "http://127.0.0.1:3000/"
    assert accounts.redeem_login_ticket(ticket) is None  # single use
    assert accounts.user_for_token(token) == alice
    with db_session() as db:
        stored = {s.token_hash for s in db.exec(select(AuthSession)).all()}
    assert token not in stored  # only the digest is kept
    accounts.log_out(token)
    assert accounts.user_for_token(token) is None
    with pytest.raises(AuthError):
        accounts.require_user(token)


def test_expired_or_made_up_tickets_open_nothing(alice):
    ticket = accounts.issue_login_ticket(alice, "http://127.0.0.1:3000/")
    with db_session() as db:
        row = db.exec(select(LoginTicket)).one()
        assert row.ticket_hash != ticket
        row.expires_at = time.time() - 1
        db.add(row)
        db.commit()
    assert accounts.redeem_login_ticket(ticket) is None
    assert accounts.redeem_login_ticket("made-up") is None
    assert accounts.redeem_login_ticket("") is None
    assert accounts.redeem_login_ticket("x" * 10_000) is None
    with db_session() as db:
        assert db.exec(select(AuthSession)).all() == []


def test_racing_redemptions_of_one_ticket_open_one_session(alice):
    ticket = accounts.issue_login_ticket(alice, "http://127.0.0.1:3000/")
    results: list[object] = []
    threads = [
        threading.Thread(target=lambda: results.append(accounts.redeem_login_ticket(ticket)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(result is not None for result in results) == 1


def test_login_errors_do_not_tell_whether_the_account_exists(alice):
    with pytest.raises(AuthError) as wrong_password:
        accounts.log_in("alice", "wrong password!")
    with pytest.raises(AuthError) as no_account:
        accounts.log_in("nobody", "wrong password!")
    assert str(wrong_password.value) == str(no_account.value) == accounts.LOGIN_FAILED


def test_sessions_expire(alice):
    token = _session("alice", "correct horse battery")
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
    assert accounts.user_for_token("x" * 100_000) is None


def test_parallel_guesses_are_counted_atomically(alice, monkeypatch):
    """Ten wrong passwords at once: only the free budget (5) is even checked, the rest are refused."""
    monkeypatch.setenv("JUST_DNA_WEBUI_LOGIN_MAX_FAILURES", "5")
    get_web_settings.cache_clear()
    outcomes: list[str] = []

    def guess() -> None:
        try:
            accounts.log_in("alice", "guess guess", "10.0.0.7")
        except AuthError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=guess) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 10
    assert outcomes.count(accounts.LOGIN_FAILED) <= 5
    assert sum("too many failed logins" in o for o in outcomes) >= 5


def test_delay_grows_per_name_and_address_and_never_locks_the_owner_out(alice, monkeypatch):
    monkeypatch.setenv("JUST_DNA_WEBUI_LOGIN_MAX_FAILURES", "3")
    get_web_settings.cache_clear()
    for _ in range(3):
        with pytest.raises(AuthError, match="wrong user name or password"):
            accounts.log_in("alice", "guess guess", "203.0.113.9")
    # The guesser's own pair now waits, even with the right password ...
    with pytest.raises(AuthError, match=r"too many failed logins; try again in \d+ s"):
        accounts.log_in("alice", "correct horse battery", "203.0.113.9")
    # ... but the owner, from their own address, is not locked out by someone else's guesses.
    assert accounts.log_in("alice", "correct horse battery", "192.0.2.1") == alice
    # Throttling applies to names that do not exist too, so it reveals nothing.
    for _ in range(3):
        with pytest.raises(AuthError, match="wrong user name or password"):
            accounts.log_in("ghost", "guess guess", "203.0.113.9")
    with pytest.raises(AuthError, match="too many failed logins"):
        accounts.log_in("ghost", "guess guess", "203.0.113.9")


def _age_failures(seconds: float) -> None:
    """Move every recorded login failure `seconds` into the past (instead of sleeping)."""
    with db_session() as db:
        for row in db.exec(select(LoginFailure)).all():
            row.at -= seconds
            db.add(row)
        db.commit()


def test_the_delay_passes_and_doubles_up_to_its_cap(alice, monkeypatch):
    monkeypatch.setenv("JUST_DNA_WEBUI_LOGIN_MAX_FAILURES", "1")
    get_web_settings.cache_clear()
    with pytest.raises(AuthError, match="wrong"):
        accounts.log_in("alice", "guess guess", "203.0.113.9")
    with pytest.raises(AuthError, match=r"try again in (99|100) s"):
        accounts.log_in("alice", "guess guess", "203.0.113.9")
    _age_failures(101)
    with pytest.raises(AuthError, match="wrong"):
        accounts.log_in("alice", "guess guess", "203.0.113.9")
    with pytest.raises(AuthError, match=r"try again in (199|200) s"):
        accounts.log_in("alice", "correct horse battery", "203.0.113.9")
    _age_failures(201)
    with pytest.raises(AuthError, match="wrong"):
        accounts.log_in("alice", "guess guess", "203.0.113.9")
    with pytest.raises(AuthError, match=r"try again in (299|300) s"):  # capped at the maximum
        accounts.log_in("alice", "guess guess", "203.0.113.9")
    _age_failures(301)
    assert accounts.log_in("alice", "correct horse battery", "203.0.113.9") == alice


def test_one_address_spraying_many_names_slows_down(alice, bob, monkeypatch):
    monkeypatch.setenv("JUST_DNA_WEBUI_LOGIN_MAX_FAILURES", "1")  # 4 per address over all names
    get_web_settings.cache_clear()
    for name in ("u1", "u2", "u3", "u4"):
        with pytest.raises(AuthError, match="wrong"):
            accounts.log_in(name, "guess guess", "10.0.0.9")
    with pytest.raises(AuthError, match="too many"):
        accounts.log_in("bob", "another long secret", "10.0.0.9")
    assert accounts.log_in("bob", "another long secret", "10.0.0.10") == bob


def test_one_address_signing_up_again_and_again_slows_down(alice, monkeypatch):
    """Sign-up had no limit: a script listed which names exist ("the user name alice is taken") as fast as it
    liked, and made accounts in parallel, each a 64 MB password hash (found by a security audit)."""
    monkeypatch.setenv("JUST_DNA_WEBUI_SIGNUP_MAX_PER_WINDOW", "3")
    get_web_settings.cache_clear()
    accounts.sign_up("u1", "a long enough secret", "10.0.0.9")
    accounts.sign_up("u2", "a long enough secret", "10.0.0.9")
    with pytest.raises(AuthError, match="taken"):  # a name tried that exists counts as well
        accounts.sign_up("alice", "a long enough secret", "10.0.0.9")
    for name in ("alice", "u3"):  # taken or free, the answer is the same: wait
        with pytest.raises(AuthError, match=r"^too many sign-ups from here; try again in \d+ s$"):
            accounts.sign_up(name, "a long enough secret", "10.0.0.9")
    assert accounts.sign_up("u3", "a long enough secret", "10.0.0.10").name == "u3"  # another address


def test_attempts_older_than_the_window_are_deleted_not_just_ignored(alice, monkeypatch):
    """The throttle's rows were never deleted: a mistyped name's failed login ("alcie"), each sign-up's and failed
    login's address stayed in the accounts database for good, after the account itself was deleted (found by a
    leak audit of account deletion). Rows past the window are now deleted by the next attempt of anyone."""
    accounts.sign_up("carol", "a long enough secret", "198.51.100.20")
    for name in ("alcie", "alice"):
        with pytest.raises(AuthError, match="wrong"):
            accounts.log_in(name, "guess guess", "198.51.100.21")
    with db_session() as db:
        kept = sorted(row.key for row in db.exec(select(LoginFailure)).all())
    assert "pair:alcie|198.51.100.21" in kept and "signup:198.51.100.20" in kept
    _age_failures(get_web_settings().login_window_seconds - 5)  # still inside the window: kept, still counted
    assert accounts.log_in("alice", "correct horse battery", "192.0.2.1") == alice
    with db_session() as db:
        assert len(db.exec(select(LoginFailure)).all()) == len(kept)
    _age_failures(10)  # now past it
    assert accounts.log_in("alice", "correct horse battery", "192.0.2.1") == alice  # anyone's next attempt
    with db_session() as db:
        assert db.exec(select(LoginFailure)).all() == []


def test_forwarded_addresses_are_believed_only_from_trusted_proxies(web_env, monkeypatch):
    assert client_address("10.1.1.1", "198.51.100.7") == "10.1.1.1"  # no proxy configured: ignored
    monkeypatch.setenv("JUST_DNA_WEBUI_TRUSTED_PROXIES", "10.1.1.1, 10.1.1.2")
    get_web_settings.cache_clear()
    assert client_address("10.1.1.1", "198.51.100.7") == "198.51.100.7"
    # A client cannot claim an address by prepending it: the last untrusted hop counts.
    assert client_address("10.1.1.1", "192.0.2.66, 198.51.100.7, 10.1.1.2") == "198.51.100.7"
    assert client_address("203.0.113.5", "198.51.100.7") == "203.0.113.5"  # not a proxy of ours


def _save_at_once(user, barrier: threading.Barrier, names: list[str], errors: list[str]) -> None:
    barrier.wait()
    try:
        accounts.remember_modules(user, names)
    except Exception as error:  # the test reports any failure
        errors.append(repr(error))


def test_first_module_choices_saved_at_once_all_succeed(alice):
    """Two tabs launching a first run at the same moment: each stores the choice (one raised IntegrityError)."""
    choices = [["coronary"], ["vo2max"], ["longevitymap", "superhuman"], ["lipidmetabolism"]]
    for trial in range(10):
        barrier, errors = threading.Barrier(len(choices)), []
        threads = [
            threading.Thread(target=_save_at_once, args=(alice, barrier, names, errors)) for names in choices
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == [], f"trial {trial}: {errors}"
        assert accounts.remembered_modules(alice) in choices
        with db_session() as db:
            db.delete(db.get(ModuleChoice, alice.id))
            db.commit()


def test_module_choice_is_remembered_per_user(alice, bob):
    assert accounts.remembered_modules(alice) is None
    accounts.remember_modules(alice, ["longevitymap", "vo2max"])
    accounts.remember_modules(alice, ["coronary"])
    assert accounts.remembered_modules(alice) == ["coronary"]
    assert accounts.remembered_modules(bob) is None

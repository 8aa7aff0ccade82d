"""Password hashing (argon2id) and the password policy for new accounts."""

from __future__ import annotations

import secrets
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
MAX_LENGTH = 256  # long passphrases are welcome; a 200 KB "password" is a hashing denial of service
# zxcvbn rates at most this many characters; the rest of a long passphrase only adds strength.
STRENGTH_PREFIX = 72
MIN_STRENGTH = 2  # zxcvbn score: 0-1 fall to an online guessing attack in under a million guesses

_hasher = PasswordHasher()  # argon2id with the library's recommended cost
# Verified against when the user does not exist, so a login takes as long either way.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """An argon2id hash of `password`, salted."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches `password_hash`; spends the same work when there is no hash."""
    if len(password) > MAX_LENGTH:
        password = password[:MAX_LENGTH] + "\x00"  # never matches, costs the same as a normal check
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, user_name: str = "") -> str | None:
    """Why `password` is not acceptable for a new account (one line), or None when it is fine."""
    if len(password) < MIN_LENGTH:
        return f"password too short: use at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"password too long: use at most {MAX_LENGTH} characters"
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in password):
        return "the password contains control characters; use letters, digits, spaces and punctuation"
    if not password.strip():
        return "the password is only spaces"
    from zxcvbn import zxcvbn

    checked = password[:STRENGTH_PREFIX]
    if zxcvbn(checked, user_inputs=[user_name] if user_name else [])["score"] < MIN_STRENGTH:
        return (
            "this password is too easy to guess (a common password, a pattern or your user name); "
            "a few unrelated words make a strong one"
        )
    return None

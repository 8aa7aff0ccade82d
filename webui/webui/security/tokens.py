"""Random secrets for sessions and one-time login tickets, and the digests the database keeps of them."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    """A fresh unguessable token (256 bits)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the database stores of a token: its SHA-256, so a leaked database yields no live session."""
    return hashlib.sha256(token.encode()).hexdigest()

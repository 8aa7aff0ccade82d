"""Errors the web app shows to the user as one line, and how what the user sent appears in them."""

SHOWN_LENGTH = 80  # of a file name or value quoted in a message


def shown(text: str, limit: int = SHOWN_LENGTH) -> str:
    """`text` from the browser as a message may quote it: unprintable characters (newlines, escapes) written
    as escapes, cut short, so a crafted name cannot add lines or text of its own to what the user reads."""
    escaped = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    return escaped if len(escaped) <= limit else escaped[: limit - 3] + "..."


class WebError(Exception):
    """A user-facing problem (bad input, not allowed, not found); its message is shown as is."""


class AuthError(WebError):
    """Login, sign-up or session failure."""


class NotFoundError(WebError):
    """The object does not exist or is not the caller's (the two are not told apart)."""

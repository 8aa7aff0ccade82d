"""Errors the web app shows to the user as one line."""


class WebError(Exception):
    """A user-facing problem (bad input, not allowed, not found); its message is shown as is."""


class AuthError(WebError):
    """Login, sign-up or session failure."""


class NotFoundError(WebError):
    """The object does not exist or is not the caller's (the two are not told apart)."""

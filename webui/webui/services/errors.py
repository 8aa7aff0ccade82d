"""Errors the web app shows to the user as one line, and how what the user sent appears in them."""

from just_dna_pipelines.errors import quoted as shown  # what the browser sent, as a message may quote it
from just_dna_pipelines.server_paths import hide_server_paths

__all__ = ["AuthError", "NotFoundError", "WebError", "shown"]


class WebError(Exception):
    """A user-facing problem (bad input, not allowed, not found); its message is shown as is, but for the server's
    paths (a pipeline error it passes on may name the module, output or temporary folder): file names only."""

    def __init__(self, message: str = "") -> None:
        super().__init__(hide_server_paths(message))


class AuthError(WebError):
    """Login, sign-up or session failure."""


class NotFoundError(WebError):
    """The object does not exist or is not the caller's (the two are not told apart)."""

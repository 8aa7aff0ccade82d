"""Everything about secrets and trust in the web app: passwords, tokens, the session cookie, allowed origins,
login throttling, and the guard that checks every websocket event against the logged-in user."""

from webui.security.passwords import hash_password, password_problem, verify_password
from webui.security.tokens import new_token, token_digest

__all__ = ["hash_password", "new_token", "password_problem", "token_digest", "verify_password"]

"""Log in."""

import reflex as rx

from webui.components.auth_form import auth_page, field
from webui.states.auth import AuthState


@rx.page(route="/login", title="Log in · just-dna-lite", on_load=AuthState.skip_if_logged_in)
def login() -> rx.Component:
    """The login form."""
    return auth_page(
        "Log in",
        [
            field("User name", "name", "username"),
            field("Password", "password", "current-password", "password"),
        ],
        "Log in",
        AuthState.log_in,
        rx.text("No account yet? ", rx.link("Sign up", href="/signup", underline="always"), size="2"),
    )

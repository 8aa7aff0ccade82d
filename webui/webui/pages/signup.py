"""Create an account."""

import reflex as rx

from webui.components.auth_form import auth_page, field
from webui.states.auth import AuthState


@rx.page(route="/signup", title="Sign up · just-dna-lite", on_load=AuthState.skip_if_logged_in)
def signup() -> rx.Component:
    """The sign-up form."""
    return auth_page(
        "Create an account",
        [
            field("User name", "name", "username", hint="Letters, digits, '.', '_' or '-'."),
            field("Password", "password", "new-password", "password", hint="At least 8 characters."),
            field("Repeat password", "confirm", "new-password", "password"),
        ],
        "Sign up",
        AuthState.sign_up,
        rx.text("Have an account? ", rx.link("Log in", href="/login", underline="always"), size="2"),
    )

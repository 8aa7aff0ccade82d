"""The shared look of the login and sign-up forms."""

from __future__ import annotations

import reflex as rx

from webui.components.layout import error_callout, labelled, navbar
from webui.states.auth import AuthState


def field(label: str, name: str, autocomplete: str, kind: str = "text", hint: str = "") -> rx.Component:
    """A labelled input; `autocomplete` tells password managers what it holds (username, current-password, ...)."""
    described = {"aria-describedby": f"{name}-hint"} if hint else {}  # the hint is read out with the field
    return rx.vstack(
        labelled(label, name),
        rx.input(
            name=name,
            id=name,
            type=kind,
            auto_complete=autocomplete,
            required=True,
            size="3",
            width="100%",
            custom_attrs=described,
        ),
        rx.cond(hint != "", rx.text(hint, size="1", color_scheme="gray", id=f"{name}-hint")),
        spacing="1",
        width="100%",
    )


def auth_page(
    title: str, fields: list[rx.Component], submit: str, handler, footer: rx.Component
) -> rx.Component:
    """A centered card with a form posting to `handler`."""
    return rx.box(
        navbar(),
        rx.el.main(
            rx.center(
                rx.card(
                    rx.form(
                        rx.vstack(
                            rx.heading(title, size="6", id="page-title"),
                            rx.text(
                                "Your genome stays on this machine: nothing is sent anywhere.",
                                size="2",
                                color_scheme="gray",
                            ),
                            *fields,
                            error_callout(AuthState.auth_error, id="auth-error"),
                            rx.button(
                                submit, type="submit", size="3", width="100%", loading=AuthState.auth_busy
                            ),
                            footer,
                            spacing="4",
                            width="100%",
                        ),
                        on_submit=handler,
                        reset_on_submit=False,
                    ),
                    size="4",
                    width="100%",
                    max_width="420px",
                ),
                padding_x="16px",
                padding_y=["32px", "72px"],
            )
        ),
        min_height="100vh",
        background=rx.color("gray", 1),
    )

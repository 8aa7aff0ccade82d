"""The page frame: top bar with navigation, account and color mode, then a centered content column."""

from __future__ import annotations

import reflex as rx

from webui.states.auth import AuthState


def _nav_link(text: str, href: str) -> rx.Component:
    """A top-bar link."""
    return rx.link(text, href=href, size="2", weight="medium", color_scheme="gray", high_contrast=True)


def labelled(text: str | rx.Var, for_id: str, **props) -> rx.Component:
    """A field's label, tied to the control with id `for_id` (its accessible name; a click on it focuses or
    toggles the control)."""
    props = {"size": "2", "weight": "medium"} | props
    return rx.el.label(rx.text(text, as_="span", **props), html_for=for_id)


def navbar() -> rx.Component:
    """Brand, navigation and the logged-in user's menu (the page's banner landmark)."""
    return rx.el.header(
        rx.el.nav(
            rx.hstack(
                rx.link(
                    rx.hstack(
                        rx.icon("dna", size=22, color=rx.color("accent", 10)),
                        rx.text("just-dna-lite", size="4", weight="bold", white_space="nowrap"),
                        align="center",
                        spacing="2",
                    ),
                    href="/",
                    underline="none",
                    color_scheme="gray",
                    high_contrast=True,
                    id="home-link",
                ),
                rx.spacer(),
                rx.cond(
                    AuthState.user_name != "",
                    rx.hstack(
                        rx.box(_nav_link("Samples", "/"), display=["none", "block"]),
                        rx.menu.root(
                            rx.menu.trigger(
                                rx.button(
                                    rx.icon("circle-user", size=16),
                                    rx.text(
                                        AuthState.user_name,
                                        class_name="user-name",
                                        max_width=["90px", "200px"],
                                        overflow="hidden",
                                        text_overflow="ellipsis",
                                        white_space="nowrap",
                                    ),
                                    variant="soft",
                                    high_contrast=True,
                                    size="2",
                                    id="user-menu",
                                )
                            ),
                            rx.menu.content(
                                rx.menu.item("Samples", on_click=rx.redirect("/")),
                                rx.menu.item("Account", on_click=rx.redirect("/account")),
                                rx.menu.separator(),
                                rx.menu.item("Log out", on_click=AuthState.log_out, id="logout"),
                            ),
                        ),
                        spacing="4",
                        align="center",
                    ),
                ),
                rx.color_mode.button(
                    size="2", variant="ghost", custom_attrs={"aria-label": "Switch dark or light theme"}
                ),
                align="center",
                spacing="4",
                width="100%",
                max_width="1100px",
                margin_x="auto",
                padding_x=["12px", "16px", "24px"],
                padding_y="12px",
            ),
            aria_label="Main",
        ),
        style={
            "border_bottom": f"1px solid {rx.color('gray', 5)}",
            "background": rx.color("gray", 2),
            "width": "100%",
        },
    )


def page(*children: rx.Component, title: str | rx.Var | None = None, subtitle=None) -> rx.Component:
    """A full page: navbar, optional heading and the content column."""
    header = []
    if title is not None:
        # a sample's name is one long word (genome_Jane_Doe_v5_Full_20240106): broken anywhere on a phone
        header.append(rx.heading(title, size="7", weight="bold", id="page-title", overflow_wrap="anywhere"))
    if subtitle is not None:
        header.append(rx.text(subtitle, color_scheme="gray", size="3"))
    return rx.box(
        navbar(),
        rx.el.main(
            rx.vstack(
                *header,
                *children,
                spacing="5",
                width="100%",
                max_width="1100px",
                margin_x="auto",
                padding_x=["12px", "16px", "24px"],
                padding_y=["20px", "28px", "36px"],
            )
        ),
        min_height="100vh",
        background=rx.color("gray", 1),
    )


def card(*children: rx.Component, **props) -> rx.Component:
    """A content card taking the full column width."""
    return rx.card(rx.vstack(*children, spacing="3", width="100%"), width="100%", size="3", **props)


def error_callout(message: rx.Var, **props) -> rx.Component:
    """A red one-line error, shown only when `message` is not empty."""
    return rx.cond(
        message != "",
        rx.callout(message, icon="triangle-alert", color_scheme="red", role="alert", width="100%", **props),
    )


def notice_callout(message: rx.Var, **props) -> rx.Component:
    """A one-line notice (not an error), shown only when `message` is not empty."""
    return rx.cond(message != "", rx.callout(message, icon="info", width="100%", **props))


def status_badge(status: rx.Var) -> rx.Component:
    """A colored badge for a sample or run status (high contrast: the soft colors' text is too faint to read)."""
    return rx.match(
        status,
        ("done", rx.badge("done", color_scheme="green", high_contrast=True)),
        ("success", rx.badge("success", color_scheme="green", high_contrast=True)),
        ("running", rx.badge("running", color_scheme="blue", high_contrast=True)),
        ("queued", rx.badge("queued", color_scheme="blue", high_contrast=True)),
        ("failed", rx.badge("failed", color_scheme="red", high_contrast=True)),
        ("failure", rx.badge("failed", color_scheme="red", high_contrast=True)),
        ("canceled", rx.badge("canceled", color_scheme="orange", high_contrast=True)),
        rx.badge(status, color_scheme="gray", high_contrast=True),
    )

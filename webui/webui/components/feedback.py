"""Cards that close a flow: something was not found, or something was deleted (with the list of what)."""

from __future__ import annotations

import reflex as rx

from webui.components.layout import card


def not_found_card(text: str) -> rx.Component:
    """A missing (or not the user's: the two look the same) sample or run."""
    return card(rx.text(text), rx.link("Back to your samples", href="/"), id="not-found")


def deleted_card(message: str, items: rx.Var, link: tuple[str, str], card_id: str) -> rx.Component:
    """A green confirmation, the list of what was deleted, and where to go next."""
    return card(
        rx.callout(message, icon="circle-check", color_scheme="green", width="100%"),
        rx.unordered_list(rx.foreach(items, lambda d: rx.list_item(rx.text(d, size="2")))),
        rx.link(link[0], href=link[1]),
        id=card_id,
    )

"""The Reflex app: pages, theme and the owner-checked file routes."""

import reflex as rx

app = rx.App()


@rx.page(route="/", title="just-dna-lite")
def index() -> rx.Component:
    """Placeholder home page."""
    return rx.center(rx.heading("just-dna-lite"), height="100vh")

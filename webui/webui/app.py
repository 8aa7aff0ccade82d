"""The Reflex app: the pages and the owner-checked file routes mounted next to Reflex's backend."""

import reflex as rx

from webui.pages import account, index, login, run, sample, signup  # noqa: F401  (registers the pages)
from webui.routes import file_routes

app = rx.App(api_transformer=file_routes())

"""URLs of the backend's own routes (reports, downloads) as seen from the browser."""

from __future__ import annotations

import reflex as rx
from reflex.vars.base import Var, VarData

# Reflex's helper maps the configured backend address onto the host the page was opened with,
# so the session cookie (set for that host) goes along with report and download requests.
_backend_origin = Var(
    _js_expr="getBackendURL(env.UPLOAD).origin",
    _var_data=VarData(
        imports={
            "$/utils/state": "getBackendURL",
            "$/env.json": rx.ImportVar(tag="env", is_default=True),
        }
    ),
).to(str)


def backend_url(path: rx.Var) -> rx.Var:
    """The absolute URL of a backend `path` like `/files/...`."""
    return _backend_origin + path.to(str)

"""The embedded report and the download buttons, shared by the sample and run pages."""

from __future__ import annotations

import reflex as rx

from webui.components.backend import backend_url
from webui.components.layout import card


def download_buttons(downloads: rx.Var) -> rx.Component:
    """One button per downloadable output file."""
    return rx.flex(
        rx.foreach(
            downloads,
            lambda f: rx.button(  # a link drawn as a button: one control, one Tab stop
                rx.el.a(rx.icon("download", size=14), f["name"], href=backend_url(f["href"]), download=True),
                as_child=True,
                variant="soft",
                size="2",
                class_name="download-link",
            ),
        ),
        wrap="wrap",
        spacing="2",
        id="downloads",
    )


def report_view(report_url: rx.Var, downloads: rx.Var) -> rx.Component:
    """The report in an iframe (served by the owner-checked route) with its downloads."""
    return card(
        rx.hstack(
            rx.heading("Report", size="4", as_="h2"),
            rx.spacer(),
            rx.button(
                rx.el.a(
                    rx.icon("external-link", size=14),
                    "Open in a new tab",
                    href=backend_url(report_url),
                    target="_blank",
                    rel="noopener",
                ),
                as_child=True,
                variant="ghost",
                size="2",
            ),
            width="100%",
            align="center",
        ),
        download_buttons(downloads),
        rx.el.iframe(
            src=backend_url(report_url),
            title="Longevity report",
            id="report-frame",
            # no allow-same-origin: with allow-scripts it would let the report act as the backend's origin
            sandbox="allow-scripts allow-popups allow-popups-to-escape-sandbox allow-downloads",
            style={
                "width": "100%",
                "height": "75vh",
                "border": f"1px solid {rx.color('gray', 5)}",
                "borderRadius": "8px",
                "background": "white",
            },
        ),
        id="report",
    )

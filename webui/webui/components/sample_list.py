"""The user's samples as cards with status and last run."""

from __future__ import annotations

from typing import Any

import reflex as rx

from webui.components.layout import card, status_badge
from webui.states.samples import SamplesState


def _fact(label: str, value) -> rx.Component:
    """A small label/value pair."""
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        rx.text(value, size="2", weight="medium"),
        spacing="0",
        min_width="90px",
    )


def sample_item(row: Any) -> rx.Component:
    """One sample: name and status, facts, and a link to open it."""
    return rx.link(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.icon("file-text", size=18, color=rx.color("accent", 10), flex_shrink="0"),
                    # a long name wraps (at any character: it is one word) instead of pushing the status out
                    rx.text(
                        row["name"],
                        weight="bold",
                        size="3",
                        class_name="sample-name",
                        overflow_wrap="anywhere",
                        min_width="0",
                    ),
                    rx.spacer(),
                    rx.box(
                        status_badge(row["status"]),
                        class_name="sample-status",
                        data_status=row["status"],
                        flex_shrink="0",
                    ),
                    align="center",
                    width="100%",
                ),
                rx.flex(
                    _fact("Kind", row["kind"]),
                    _fact(row["records_label"], row["records"]),
                    rx.cond(row["call_rate"] != "", _fact("Call rate", row["call_rate"])),
                    _fact("Build", row["build"]),
                    _fact("Size", row["size"]),
                    _fact("Uploaded", row["uploaded"]),
                    _fact("Last run", row["last_run"]),
                    wrap="wrap",
                    spacing="4",
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
            class_name="sample-card",
        ),
        href="/sample?name=" + row["name"].to(str),
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        width="100%",
    )


def sample_list() -> rx.Component:
    """All samples, or an empty state that says what to do."""
    return rx.cond(
        SamplesState.samples.length() > 0,
        rx.vstack(
            rx.heading("Your samples", size="4", as_="h2"),
            rx.foreach(SamplesState.samples, sample_item),
            spacing="3",
            width="100%",
            id="sample-list",
        ),
        rx.cond(
            SamplesState.loaded,
            card(
                rx.center(
                    rx.vstack(
                        rx.icon("inbox", size=32, color=rx.color("gray", 9)),
                        rx.text("No samples yet", weight="medium"),
                        rx.text(
                            "Upload a VCF or your DNA-test raw data above, or try the demo sample to see a "
                            "report in a few seconds.",
                            size="2",
                            color_scheme="gray",
                            align="center",
                        ),
                        align="center",
                        spacing="2",
                    ),
                    width="100%",
                    padding_y="16px",
                ),
                id="empty-samples",
            ),
        ),
    )

"""Live progress of a run, then its report."""

from typing import Any

import reflex as rx

from webui.components.feedback import not_found_card
from webui.components.layout import card, notice_callout, page, status_badge
from webui.components.results import report_view
from webui.states.run import RunState

STATE_COLORS = {"done": "green", "working": "blue", "failed": "red", "waiting": "gray"}


def _module_progress(m: Any) -> rx.Component:
    """One module's state and latest message."""
    return rx.hstack(
        rx.match(
            m["state"],
            ("done", rx.icon("circle-check", color=rx.color("green", 10), size=18)),
            ("working", rx.spinner(size="2")),
            ("failed", rx.icon("circle-x", color=rx.color("red", 10), size=18)),
            ("skipped", rx.icon("circle-minus", color=rx.color("gray", 9), size=18)),
            rx.icon("circle-dashed", color=rx.color("gray", 8), size=18),
        ),
        rx.text(m["name"], weight="medium", min_width="130px"),
        rx.text(m["detail"], size="1", color_scheme="gray", trim="both"),
        align="center",
        spacing="3",
        width="100%",
        class_name="module-progress",
    )


def _step(s: Any) -> rx.Component:
    """One pipeline step with its duration."""
    return rx.hstack(
        rx.match(
            s["status"],
            ("done", rx.icon("check", size=14, color=rx.color("green", 10))),
            ("failed", rx.icon("x", size=14, color=rx.color("red", 10))),
            rx.spinner(size="1"),
        ),
        rx.text(
            s["name"], size="2", title=s["key"], class_name="step-name"
        ),  # the key, as the Dagster UI shows it
        rx.spacer(),
        rx.text(s["took"], size="1", color_scheme="gray"),
        width="100%",
        align="center",
    )


def progress_card() -> rx.Component:
    """Status, elapsed time, current step, modules, steps and recent log lines."""
    return card(
        rx.flex(
            rx.box(
                status_badge(RunState.status),
                id="run-status",
                data_status=RunState.status,
                custom_attrs={
                    "role": "status",
                    "aria-live": "polite",
                },  # a screen reader says when it changes
            ),
            rx.text("Elapsed ", rx.text.strong(RunState.elapsed, id="elapsed"), size="2"),
            rx.cond(
                RunState.current_step != "",
                rx.text("Now: ", rx.text.strong(RunState.current_step, id="current-step"), size="2"),
            ),
            rx.spacer(),
            rx.text(RunState.updates, " updates", size="1", color_scheme="gray", id="update-count"),
            rx.cond(
                RunState.can_cancel,
                rx.button(
                    rx.icon("circle-stop", size=14),
                    "Cancel run",
                    on_click=RunState.cancel,
                    loading=RunState.canceling,
                    color_scheme="red",
                    variant="soft",
                    size="1",
                    id="cancel-run",
                ),
            ),
            spacing="4",
            wrap="wrap",
            align="center",
            width="100%",
        ),
        rx.cond(
            RunState.queue_text != "",
            rx.callout(
                RunState.queue_text,
                icon="hourglass",
                color_scheme="blue",
                size="1",
                width="100%",
                id="queue-position",
            ),
        ),
        rx.cond(RunState.cancel_error != "", rx.text(RunState.cancel_error, color_scheme="red", size="2")),
        rx.grid(
            rx.vstack(
                rx.text("Modules", weight="bold", size="2"),
                rx.foreach(RunState.modules, _module_progress),
                spacing="2",
                width="100%",
            ),
            rx.vstack(
                rx.text("Steps", weight="bold", size="2"),
                rx.cond(
                    RunState.steps.length() > 0,
                    rx.foreach(RunState.steps, _step),
                    rx.text("Starting…", size="2", color_scheme="gray"),
                ),
                spacing="1",
                width="100%",
                id="steps",
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="5",
            width="100%",
        ),
        rx.vstack(
            rx.text("Recent log", weight="bold", size="2"),
            rx.box(
                rx.foreach(
                    RunState.log,
                    lambda line: rx.text(
                        rx.text.span(line["time"] + "  ", color=rx.color("gray", 9)),
                        line["message"],
                        size="1",
                        font_family="ui-monospace, SFMono-Regular, Menlo, monospace",
                        white_space="pre-wrap",
                        class_name="log-line",
                    ),
                ),
                width="100%",
                max_height="260px",
                overflow_y="auto",
                padding="0.75em",
                border_radius="8px",
                background=rx.color("gray", 3),
                id="log",
                custom_attrs={
                    "tabIndex": 0,
                    "role": "log",
                    "aria-label": "Recent log",
                },  # scrolled: reachable by keyboard
            ),
            spacing="1",
            width="100%",
        ),
        id="progress",
    )


def failure_card() -> rx.Component:
    """The readable error and what to do."""
    return rx.callout.root(
        rx.callout.icon(rx.icon("triangle-alert")),
        rx.callout.text(rx.text.strong(RunState.failure_title), " ", RunState.error),
        rx.callout.text(RunState.failure_hint, size="2"),
        color_scheme="red",
        role="alert",
        width="100%",
        id="run-failure",
    )


@rx.page(route="/run", title="Run · just-dna-lite", on_load=RunState.open)
def run() -> rx.Component:
    """The run page."""
    return page(
        rx.cond(
            RunState.not_found,
            not_found_card("No such run."),
            rx.vstack(
                # Shown once the server said whose run it is: before that it would lead to "/sample?name=".
                rx.cond(
                    RunState.sample_name != "",
                    rx.link(
                        rx.hstack(
                            rx.icon("arrow-left", size=14),
                            rx.text("Sample ", RunState.sample_name),
                            align="center",
                        ),
                        href="/sample?name=" + RunState.sample_name,
                        size="2",
                        high_contrast=True,
                        id="back-to-sample",
                    ),
                ),
                rx.cond(RunState.error != "", failure_card()),
                rx.cond(RunState.report_url != "", report_view(RunState.report_url, RunState.downloads)),
                notice_callout(RunState.replaced_notice, id="report-replaced"),
                progress_card(),
                spacing="4",
                width="100%",
            ),
        ),
        # "Run" alone until the server said whose run it is (and for a run that is not the user's)
        title=rx.cond(RunState.sample_name != "", "Run of " + RunState.sample_name, "Run"),
    )

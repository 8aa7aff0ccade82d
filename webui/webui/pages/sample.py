"""One sample: pick modules and run, history, report, delete."""

from typing import Any

import reflex as rx

from webui.components.feedback import deleted_card, not_found_card
from webui.components.layout import card, error_callout, labelled, notice_callout, page, status_badge
from webui.components.results import report_view
from webui.states.sample import SampleState


def _module_item(m: Any) -> rx.Component:
    """A checklist row: tick box, title, description and facts."""
    return rx.box(
        rx.hstack(
            rx.checkbox(
                checked=SampleState.selected.contains(m["name"]),
                on_change=lambda checked: SampleState.toggle_module(m["name"], checked),  # type: ignore[operator]
                disabled=m["usable"] == "",
                size="3",
                id="module-" + m["name"].to(str),
            ),
            rx.vstack(
                rx.el.label(  # the checkbox's name; a click on the title ticks it too
                    rx.text(m["title"], weight="bold", as_="span"),
                    html_for="module-" + m["name"].to(str),
                    style={"cursor": "pointer"},
                ),
                rx.text(m["description"], size="2", color_scheme="gray"),
                rx.text(
                    rx.code(m["name"], size="1", variant="ghost"),
                    " · " + m["facts"].to(str),
                    size="1",
                    color_scheme="gray",
                ),
                rx.cond(
                    m["notes"] != "",
                    rx.text(m["notes"], size="1", color_scheme="orange", class_name="module-notes"),
                ),
                spacing="1",
                width="100%",
            ),
            align="start",
            spacing="3",
            width="100%",
        ),
        padding="0.75em",
        border_radius="8px",
        border=f"1px solid {rx.color('gray', 4)}",
        width="100%",
    )


def modules_card() -> rx.Component:
    """The module checklist and the Run button."""
    return card(
        rx.hstack(
            rx.heading("Modules", size="4", as_="h2"),
            rx.spacer(),
            rx.button("All", variant="ghost", size="1", on_click=SampleState.select_all, id="select-all"),
            rx.button("None", variant="ghost", size="1", on_click=SampleState.select_none, id="select-none"),
            width="100%",
            align="center",
        ),
        rx.cond(
            SampleState.modules_notice != "",
            rx.callout(
                SampleState.modules_notice, icon="info", color_scheme="orange", width="100%", id="demo-notice"
            ),
        ),
        error_callout(SampleState.modules_error),
        rx.foreach(SampleState.modules, _module_item),
        error_callout(SampleState.run_error, id="run-error"),
        rx.button(
            rx.icon("play", size=16),
            "Run " + SampleState.selected.length().to(str) + " selected",
            size="3",
            on_click=SampleState.run,
            loading=SampleState.launching,
            disabled=SampleState.selected.length() == 0,
            id="run-button",
        ),
    )


def history_card() -> rx.Component:
    """Past runs of this sample, newest first."""
    return card(
        rx.heading("Run history", size="4", as_="h2"),
        rx.cond(
            SampleState.runs.length() > 0,
            rx.vstack(
                rx.foreach(
                    SampleState.runs,
                    lambda r: rx.link(
                        rx.flex(
                            status_badge(r["status"]),
                            rx.text(r["started"], size="2", weight="medium"),
                            rx.text(r["modules"], size="2", color_scheme="gray"),
                            rx.text(r["took"], size="2", color_scheme="gray"),
                            rx.code(r["short_id"], size="1"),
                            spacing="3",
                            wrap="wrap",
                            align="center",
                        ),
                        href="/run?id=" + r["run_id"].to(str),
                        underline="none",
                        color_scheme="gray",
                        high_contrast=True,
                    ),
                ),
                spacing="2",
                width="100%",
                id="run-history",
            ),
            rx.text("No runs yet: tick modules above and press Run.", size="2", color_scheme="gray"),
        ),
    )


def danger_card() -> rx.Component:
    """Delete the sample, after confirming."""
    return card(
        rx.heading("Delete this sample", size="4", as_="h2"),
        rx.text(
            "Removes the uploaded VCF, all results and reports, and the run partition.",
            size="2",
            color_scheme="gray",
        ),
        rx.alert_dialog.root(
            rx.alert_dialog.trigger(
                rx.button(
                    rx.icon("trash-2", size=14),
                    "Delete sample",
                    color_scheme="red",
                    variant="soft",
                    id="delete-sample",
                )
            ),
            rx.alert_dialog.content(
                rx.alert_dialog.title("Delete " + SampleState.sample_name + "?"),
                rx.alert_dialog.description("This cannot be undone."),
                rx.hstack(
                    rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.alert_dialog.action(
                        rx.button(
                            "Delete",
                            color_scheme="red",
                            high_contrast=True,  # white on the plain red reads at 3.9:1
                            on_click=SampleState.delete,
                            id="confirm-delete",
                        )
                    ),
                    justify="end",
                    spacing="3",
                    margin_top="1em",
                ),
            ),
        ),
    )


def _facts() -> rx.Component:
    """The upload's facts under the title."""
    s: Any = SampleState.sample
    return rx.vstack(
        rx.flex(
            rx.box(status_badge(s["status"]), id="sample-status", data_status=s["status"]),
            rx.text(s["filename"], size="2"),
            rx.text(s["kind"], size="2", color_scheme="gray"),
            rx.text(s["records"] + " " + s["records_unit"].to(str), size="2", color_scheme="gray"),
            rx.cond(
                s["call_rate"] != "",
                rx.text("call rate " + s["call_rate"].to(str), size="2", color_scheme="gray"),
            ),
            rx.text(s["build"], size="2", color_scheme="gray"),
            rx.cond(
                s["vcf_samples"] != "",
                rx.text("VCF sample: " + s["vcf_samples"].to(str), size="2", color_scheme="gray"),
            ),
            spacing="3",
            wrap="wrap",
            align="center",
        ),
        rx.cond(
            SampleState.vcf_sample_options.length() > 1,
            rx.hstack(
                labelled("Person in this VCF:", "vcf-sample"),
                rx.el.select(
                    rx.foreach(
                        SampleState.vcf_sample_options,
                        lambda o: rx.el.option(o["label"], value=o["value"]),
                    ),
                    value=SampleState.vcf_sample,
                    on_change=SampleState.pick_vcf_sample,
                    id="vcf-sample",
                    style={"max_width": "100%", "padding": "4px 8px", "border_radius": "6px"},
                ),
                align="center",
                spacing="2",
                wrap="wrap",
            ),
        ),
        rx.cond(
            s["notes"] != "",
            rx.callout(
                s["notes"], icon="info", color_scheme="gray", size="1", width="100%", id="sample-notes"
            ),
        ),
        spacing="2",
        width="100%",
    )


@rx.page(route="/sample", title="Sample · just-dna-lite", on_load=SampleState.load)
def sample() -> rx.Component:
    """The sample page."""
    return page(
        rx.cond(
            SampleState.deleted.length() > 0,
            deleted_card("Sample deleted.", SampleState.deleted, ("Back to your samples", "/"), "deleted"),
            rx.cond(
                SampleState.not_found,
                not_found_card("No such sample."),
                rx.vstack(
                    # Empty until loaded, and again once the tab's session ended (its states are wiped):
                    # no "undefined" fields.
                    rx.cond(SampleState.sample.contains("filename"), _facts()),
                    notice_callout(SampleState.other_person_notice, id="report-other-person"),
                    rx.cond(
                        SampleState.report_url != "",
                        report_view(SampleState.report_url, SampleState.downloads),
                    ),
                    rx.grid(
                        modules_card(),
                        rx.vstack(history_card(), danger_card(), spacing="5", width="100%"),
                        columns=rx.breakpoints(initial="1", md="2"),
                        spacing="5",
                        width="100%",
                    ),
                    spacing="5",
                    width="100%",
                ),
            ),
        ),
        title=SampleState.sample_name,
    )

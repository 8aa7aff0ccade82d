"""The VCF drop zone with its progress bar, messages and the demo sample button."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.vars.object import ObjectVar
from reflex.vars.sequence import ArrayVar

from webui.components.layout import card, error_callout
from webui.routes import UPLOAD_KEY_HEADER
from webui.states.samples import UPLOAD_ID, SamplesState

ACCEPT = {
    "application/gzip": [".gz", ".bgz"],
    "text/plain": [".vcf", ".txt", ".tsv"],
    "text/csv": [".csv"],
    "application/zip": [".zip"],
    "application/octet-stream": [".bcf"],
}


def _rejected_summary(rejected: rx.Var) -> Any:
    """Send refused files as "name<TAB>size<TAB>reason codes" strings: never the files themselves."""

    def one(item: rx.Var) -> rx.Var:
        record = item.to(ObjectVar, dict[str, dict[str, Any]])
        file = record["file"].to(ObjectVar, dict[str, Any])
        errors = record["errors"].to(ArrayVar, list[dict[str, Any]])
        return rx.Var.create(f"{file['name']}\t{file['size']}\t{errors.map(lambda e: e['code']).join(',')}")

    return SamplesState.upload_rejected(rejected.to(ArrayVar).map(one))  # type: ignore[call-arg,operator]


def upload_box() -> rx.Component:
    """Drop or pick a VCF; it uploads at once, streamed, and is validated before it is kept."""
    return card(
        rx.hstack(
            rx.heading("Add a genome", size="4", as_="h2"),
            rx.spacer(),
            rx.button(
                rx.icon("flask-conical", size=16),
                "Use the demo sample",
                variant="soft",
                on_click=SamplesState.add_demo,
                id="demo-sample",
            ),
            width="100%",
            align="center",
            wrap="wrap",
        ),
        rx.upload.root(
            rx.vstack(
                rx.icon("upload", size=28, color=rx.color("accent", 10)),
                rx.text("Drop your genome file here or click to choose", weight="medium", align="center"),
                rx.text(
                    "A VCF (.vcf, .vcf.gz, .bcf; GRCh38 or GRCh37) or the raw data from 23andMe, AncestryDNA, "
                    f"MyHeritage, FamilyTreeDNA or LivingDNA (.txt, .csv, .zip) · up to {SamplesState.max_upload_mb} MB",
                    size="2",
                    color_scheme="gray",
                    align="center",
                ),
                align="center",
                spacing="2",
            ),
            id=UPLOAD_ID,
            accept=ACCEPT,
            multiple=False,
            max_size=SamplesState.max_upload_mb * 1024 * 1024,
            # Usable once the page is live (its state loaded over the websocket): an upload sent from the
            # prerendered page before that can stall.
            disabled=SamplesState.uploading | ~SamplesState.loaded,
            custom_attrs={
                "data-ready": rx.cond(SamplesState.loaded, "true", "false"),
                "aria-label": "Add a genome file: drop it here or press Enter to choose one",
            },
            on_drop=SamplesState.receive_upload(  # type: ignore[misc]  # Reflex stubs miss chunk-upload handlers
                rx.upload_files_chunk(
                    upload_id=UPLOAD_ID,
                    on_upload_progress=SamplesState.upload_progress_changed,
                    extra_headers={UPLOAD_KEY_HEADER: SamplesState.upload_key},  # type: ignore[dict-item]
                )
            ),
            on_drop_rejected=_rejected_summary,
            border=f"2px dashed {rx.color('accent', 7)}",
            border_radius="12px",
            padding="2em 1em",
            width="100%",
            cursor="pointer",
            background=rx.color("accent", 2),
        ),
        rx.cond(
            SamplesState.uploading,
            rx.vstack(
                rx.text(
                    rx.cond(
                        SamplesState.upload_progress < 100,
                        f"Uploading… {SamplesState.upload_progress}%",
                        "Checking the file…",
                    ),
                    size="2",
                ),
                rx.progress(
                    value=SamplesState.upload_progress,
                    max=100,
                    width="100%",
                    id="upload-progress",
                    custom_attrs={"aria-label": "Upload progress"},
                ),
                width="100%",
                spacing="1",
            ),
        ),
        error_callout(SamplesState.upload_error, id="upload-error"),
        rx.cond(
            SamplesState.upload_notice != "",
            rx.callout(
                SamplesState.upload_notice,
                icon="circle-check",
                color_scheme="green",
                width="100%",
                id="upload-ok",
            ),
        ),
    )

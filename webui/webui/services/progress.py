"""Turn a run's progress events into what the live page shows: steps, per-module state and recent log lines."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from just_dna_pipelines import service
from just_dna_pipelines.service import ProgressEvent
from webui.formatting import for_user

MAX_LOG_LINES = 14
CANCELED_STEP = "stopped by the cancel"
ANNOTATION_STEP = "module_annotations"  # the step that annotates all chosen modules
ANNOTATION_STEP_NAME = "user_hf_module_annotations"  # its whole key (defs.annotation.module_annotations)
ENSEMBL_STEP = "user_annotated_vcf"  # the Ensembl annotation's step (either engine)
ENSEMBL_MODULE = "ensembl"
# What each pipeline step does, in the page's words (the Dagster UI names them by their asset keys).
STEP_TITLES = {
    "user_vcf_source": "Checking your file",
    "user_vcf_normalized": "Reading your genome",
    ANNOTATION_STEP_NAME: "Matching the modules' variants",
    ENSEMBL_STEP: "Ensembl annotation",
    f"{ENSEMBL_STEP}_duckdb": "Ensembl annotation (DuckDB)",
    "ensembl_annotations": "Getting the Ensembl reference",
    "user_longevity_report": "Writing the report",
}
MODULE_STATES = {"done": "done", "skipped": "skipped", "failed": "failed", "error": "failed"}
# The annotation step logs one line per finished module: "module {name}: {status}, {n} matched variant(s)".
MODULE_LINE = re.compile(r"^module (?P<name>[\w.-]+): (?P<status>\w+)(?:, (?P<detail>.*))?$")


def step_title(step: str) -> str:
    """A step as the run page names it: what it does, or its key for a step without words."""
    return STEP_TITLES.get(step, step)


@dataclass
class RunView:
    """The accumulated picture of one run; `apply` folds new events in, in order."""

    modules: list[str]
    cursor: int = -1
    steps: dict[str, dict[str, str]] = field(default_factory=dict)
    step_started: dict[str, float] = field(default_factory=dict)
    module_state: dict[str, str] = field(default_factory=dict)
    module_detail: dict[str, str] = field(default_factory=dict)
    log: list[dict[str, str]] = field(default_factory=list)
    current_step: str = ""
    last_event_at: float = 0.0
    failure_message: str = ""

    def __post_init__(self) -> None:
        """Every module starts as waiting."""
        for name in self.modules:
            self.module_state.setdefault(name, "waiting")

    def _set_modules(self, old: tuple[str, ...], new: str) -> None:
        """Move every module whose state is in `old` to `new`."""
        for name, state in self.module_state.items():
            if state in old:
                self.module_state[name] = new

    def _ensembl(self, state: str, detail: str = "") -> None:
        """Move the Ensembl entry (when chosen) to `state`."""
        if ENSEMBL_MODULE in self.module_state and self.module_state[ENSEMBL_MODULE] not in (
            "done",
            "failed",
        ):
            self.module_state[ENSEMBL_MODULE] = state
            if detail:
                self.module_detail[ENSEMBL_MODULE] = detail

    def _step_event(self, event: ProgressEvent, step: str) -> None:
        """Track step start/end, and the modules while the annotation step (or the Ensembl step) runs."""
        if event.kind == "step_start":
            self.step_started[step] = event.timestamp
            self.steps[step] = {"name": step_title(step), "key": step, "status": "running", "took": ""}
            self.current_step = step
            if ANNOTATION_STEP in step:
                self._set_modules(("waiting",), "working")
                self._ensembl("waiting")
            if ENSEMBL_STEP in step:
                self._ensembl("working", "annotating every variant from the Ensembl reference")
            return
        took = event.timestamp - self.step_started.get(step, event.timestamp)
        failed = event.kind == "step_failure"
        status = "failed" if failed else "done"
        self.steps[step] = {"name": step_title(step), "key": step, "status": status, "took": f"{took:.1f} s"}
        if self.current_step == step:
            self.current_step = ""
        if ENSEMBL_STEP in step:
            self._ensembl("failed" if failed else "done", f"took {took:.1f} s")
        if failed:
            self.failure_message = self.failure_message or for_user(event.message)
            if ANNOTATION_STEP in step:
                self._set_modules(("waiting", "working"), "failed")

    def apply(self, events: list[ProgressEvent]) -> bool:
        """Fold `events` in; return whether anything changed."""
        for event in events:
            self.cursor = max(self.cursor, event.cursor)
            self.last_event_at = max(self.last_event_at, event.timestamp)
            step = event.step or ""
            if event.kind in ("step_start", "step_success", "step_failure") and step:
                self._step_event(event, step)
            elif event.kind in ("run_failure", "run_canceled"):
                self.failure_message = self.failure_message or for_user(event.message)
            elif event.kind == "run_success":
                self._set_modules(("waiting", "working"), "done")
            match = MODULE_LINE.match(event.message or "")
            if match and match["name"] in self.module_state:
                status = match["status"]
                self.module_state[match["name"]] = MODULE_STATES.get(status, "working")
                self.module_detail[match["name"]] = match["detail"] or status
            if event.message:
                clock = time.strftime("%H:%M:%S", time.localtime(event.timestamp))
                line = {"time": clock, "kind": event.kind, "step": step, "message": for_user(event.message)}
                self.log.append(line)
        self.log = self.log[-MAX_LOG_LINES:]
        return bool(events)

    def step_done(self, fragment: str) -> bool:
        """Whether a step whose name contains `fragment` has succeeded."""
        return any(fragment in name and row["status"] == "done" for name, row in self.steps.items())

    def finish(self, status: str) -> None:
        """Settle the modules once the run has ended (in case its last events said nothing about them)."""
        self._set_modules(("waiting", "working"), "done" if status == "success" else "failed")
        self.current_step = ""
        # The step a cancel interrupted reports "stopped unexpectedly"; it was asked to stop.
        if status == "canceled":
            stopped = for_user(service.STOPPED_MESSAGE)
            for line in self.log:
                if line["kind"] == "step_failure" and line["message"] == stopped:
                    line["message"] = CANCELED_STEP
            if self.failure_message == stopped:
                self.failure_message = "canceled"

    def module_rows(self) -> list[dict[str, str]]:
        """Per-module state for the page."""
        return [
            {"name": m, "state": self.module_state.get(m, "waiting"), "detail": self.module_detail.get(m, "")}
            for m in self.modules
        ]

    def step_rows(self) -> list[dict[str, str]]:
        """Steps in the order they started."""
        return list(self.steps.values())

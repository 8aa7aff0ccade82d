"""Turn a run's progress events into what the live page shows: steps, per-module state and recent log lines."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from just_dna_pipelines.service import ProgressEvent

TERMINAL = ("success", "failure", "canceled")
MAX_LOG_LINES = 14


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

    def _modules_in(self, text: str) -> list[str]:
        """The run's modules that a step name or message mentions."""
        lower = text.lower()
        return [m for m in self.modules if m.lower() in lower]

    def apply(self, events: list[ProgressEvent]) -> bool:
        """Fold `events` in; return whether anything changed."""
        for event in events:
            self.cursor = max(self.cursor, event.cursor)
            self.last_event_at = max(self.last_event_at, event.timestamp)
            step = event.step or ""
            if event.kind == "step_start" and step:
                self.step_started[step] = event.timestamp
                self.steps[step] = {"name": step, "status": "running", "took": ""}
                self.current_step = step
            elif event.kind in ("step_success", "step_failure") and step:
                took = event.timestamp - self.step_started.get(step, event.timestamp)
                status = "done" if event.kind == "step_success" else "failed"
                self.steps[step] = {"name": step, "status": status, "took": f"{took:.1f} s"}
                if self.current_step == step:
                    self.current_step = ""
            elif event.kind == "run_failure":
                self.failure_message = event.message
            if event.kind == "step_failure" and not self.failure_message:
                self.failure_message = event.message
            for name in self._modules_in(f"{step} {event.message}"):
                if event.kind == "step_success" and name.lower() in step.lower():
                    self.module_state[name] = "done"
                elif event.kind == "step_failure":
                    self.module_state[name] = "failed"
                elif self.module_state[name] != "done":
                    self.module_state[name] = "working"
                if event.kind in ("progress", "log") and event.message:
                    self.module_detail[name] = event.message
            if event.kind == "run_success":
                for name in self.modules:
                    self.module_state[name] = "done"
            if event.message:
                clock = time.strftime("%H:%M:%S", time.localtime(event.timestamp))
                self.log.append({"time": clock, "kind": event.kind, "step": step, "message": event.message})
        self.log = self.log[-MAX_LOG_LINES:]
        return bool(events)

    def module_rows(self) -> list[dict[str, str]]:
        """Per-module state for the page."""
        return [
            {"name": m, "state": self.module_state.get(m, "waiting"), "detail": self.module_detail.get(m, "")}
            for m in self.modules
        ]

    def step_rows(self) -> list[dict[str, str]]:
        """Steps in the order they started."""
        return list(self.steps.values())

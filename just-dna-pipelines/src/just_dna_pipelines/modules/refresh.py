"""Which modules a re-annotation recomputes and which it carries over unchanged from the sample's last results."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from just_dna_pipelines.annotation.manifest import current_manifest


@dataclass(frozen=True)
class RefreshPlan:
    """The modules of the new results in order, and those whose earlier results (summaries) are kept as they are."""

    modules: list[str]
    carried: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def run(self) -> list[str]:
        """The modules to annotate afresh."""
        return [name for name in self.modules if name not in self.carried]


def previous_summaries(results_dir: Path) -> dict[str, dict[str, Any]]:
    """Per-module summaries of the sample's current results (empty when it has none)."""
    modules = current_manifest(results_dir).get("modules")
    if not isinstance(modules, dict):
        return {}
    return {name: dict(summary) for name, summary in modules.items() if isinstance(summary, dict)}


def plan_refresh(results_dir: Path, changed: list[str], available: list[str]) -> RefreshPlan:
    """Recompute the `changed` modules the sample used; carry every other module it used over as it is.

    A module the sample no longer uses stays out; a carried module whose results file is missing is recomputed.
    """
    previous = previous_summaries(results_dir)
    used = list(previous) or list(changed)
    kept = [name for name in used if name in available]
    carried = {}
    for name in kept:
        output = previous.get(name, {}).get("output")
        if name not in changed and output and (results_dir / output).is_file():
            carried[name] = previous[name]
    return RefreshPlan(kept, carried)

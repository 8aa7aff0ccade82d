"""A DAGSTER_HOME the run worker serves, with the configuration its runs get (sent by each caller)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Home:
    """One DAGSTER_HOME the worker serves, with the configuration its runs get."""

    path: Path
    env: dict[str, str]
    output_dir: Path
    slots: int

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Home:
        """The home a request's environment (launcher.configuration_env) names."""
        return cls(
            Path(env["DAGSTER_HOME"]).resolve(),
            env,
            Path(env["JUST_DNA_PIPELINES_OUTPUT_DIR"]),
            max(1, int(env["JUST_DNA_PIPELINES_MAX_CONCURRENT_RUNS"])),
        )

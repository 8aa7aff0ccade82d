"""Interrupt a real `pipelines` command as a given line of its output appears, and read what it left behind.

The SIGINT goes where a terminal's Ctrl-C goes, to the command's whole process group (helpers Dagster started with
it included; a warm server's caller passes it on to the group of the child running the command), the moment the
line is read: no sleep guesses when a step runs. Steps print their start before they do their work, so the signal
lands in that step or, when the step is quicker than the signal, at the next step's start.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg

PROGRAM = Path(sys.executable).with_name("pipelines")  # the entry point the package installs
# The steps of a module run with the report, by the line each prints as it starts.
STEP_STARTS = ("user_vcf_normalized ...", "user_hf_module_annotations ...", "user_longevity_report ...")


def interrupt_at(
    args: list[str], trigger: str, timeout: float = 120, sig: int = signal.SIGINT, **popen: Any
) -> tuple[int, str, str]:
    """Run `pipelines ARGS` in a process group of its own (as a terminal's foreground job), sending `sig` (SIGINT:
    Ctrl-C) to the group as the first line holding `trigger` appears; (status, stdout, stderr)."""
    command = subprocess.Popen(
        [str(PROGRAM), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **popen,
    )
    assert command.stdout is not None
    lines = []
    for line in command.stdout:
        lines.append(line)
        if trigger in line:
            os.killpg(command.pid, sig)
            break
    rest, err = command.communicate(timeout=timeout)
    out = "".join(lines) + rest
    assert trigger in out, f"the command never printed {trigger!r}:\n{out}\n{err}"
    return command.returncode, out, err


def run_id_of(out: str) -> str:
    """The run id the command's first line names: `annotating ... (run ID)`."""
    return out.splitlines()[0].rsplit("(run ", 1)[1].rstrip(")")


def folder_state(folder: Path) -> dict[str, str]:
    """Every file and folder under `folder` by relative path, files with the SHA-256 of their bytes."""
    if not folder.exists():
        return {}
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        if path.is_file()
        else "/"
        for path in sorted(folder.rglob("*"))
    }


def no_staging_left(output_dir: Path) -> bool:
    """Whether no run has a staging folder under `output_dir` (the `.staging` folder itself may stay, empty)."""
    staging = output_dir / ".staging"
    return not staging.exists() or not any(staging.iterdir())


def run_status(run_id: str) -> dg.DagsterRunStatus | None:
    """The run's status in the instance of the test's DAGSTER_HOME (where the command ran it)."""
    from just_dna_pipelines.runs.instance import get_instance

    run = get_instance().get_run_by_id(run_id)
    return run.status if run is not None else None


def has_partition(partition_key: str) -> bool:
    """Whether the instance of the test's DAGSTER_HOME has the sample's partition."""
    from just_dna_pipelines.runs.instance import get_instance

    return get_instance().has_dynamic_partition("user_vcf_files", partition_key)

"""Where a `pipelines` command spends its wall time: interpreter, imports, checks, instance, run steps, exit.

Usage: uv run python bench/profile_cli.py [--repeat N] -- annotate-modules --input X.vcf.gz --user u ...
       uv run python bench/profile_cli.py -- stream-bam X.bam --output-dir out/

The command runs in a fresh child Python (as `uv run pipelines` would, minus uv's own ~0.2 s) with
`-X importtime`, on fresh DAGSTER_HOME and output folders under bench/out/profile/ (like the benchmarks).
The child stamps the wall clock when Python starts running our code, after the CLI's imports, around the
CLI's phases and the first instance fetch, and at the end of `main`; the run's own phases come from the
Dagster event log (run start, each step's start and success, run end). The parent adds the process start
and exit. Printed: one line per phase, seconds from the command's start, and the heaviest imports.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / "out" / "profile"
STAMPS = "JDL_PROFILE_STAMPS"

# Runs in the child: wrap the CLI's phases with wall-clock stamps, run main, then read the run's events.
CHILD = r"""
import json, os, sys, time
stamps = [("python running", time.time())]
def stamp(name): stamps.append((name, time.time()))
import just_dna_pipelines.cli as cli
import just_dna_pipelines.cli.annotate_modules as am
import just_dna_pipelines.cli.stream_bam as sb
stamp("cli imported")

def wrap(module, name, label, before=None):
    original = getattr(module, name)
    def wrapped(*args, **kwargs):
        stamp(label + " start")
        if before is not None:
            before()
        try:
            return original(*args, **kwargs)
        finally:
            stamp(label + " end")
    setattr(module, name, wrapped)

def dagster_phases():
    # What the phase imports first anyway (Dagster, the run helpers), stamped, then its parts wrapped.
    import just_dna_pipelines.runs.instance as ri
    stamp("dagster imported")
    wrap(ri, "get_instance", "instance")
    if "just_dna_pipelines.cli.run_job" in sys.modules:
        import just_dna_pipelines.cli.run_job as rj
        import just_dna_pipelines.runs.execute as rx
        stamp("run helpers imported")
        wrap(rj, "run_definitions", "definitions")
        wrap(rx, "execute_run", "execute_run")

def annotate_run():
    import just_dna_pipelines.cli.run_job as rj
    wrap(rj, "execute_with_progress", "run", before=dagster_phases)

wrap(am, "_chosen_modules", "choose modules")
wrap(am, "_check_input", "check input")
wrap(am, "_execute", "execute", before=annotate_run)
wrap(am, "_print_summary", "summary")
wrap(sb, "run", "stream-bam", before=dagster_phases)
code = cli.main(sys.argv[1:])
stamp("main returned")
with open(os.environ["JDL_PROFILE_STAMPS"], "w") as out:
    json.dump({"stamps": stamps, "code": code}, out)
sys.stdout.flush()
sys.exit(code)
"""

WATCHED_IMPORTS = (
    "dagster",
    "just_dna_pipelines.definitions",
    "just_dna_pipelines.defs.annotation",
    "just_dna_pipelines.defs.bam",
    "just_dna_pipelines.defs.ensembl",
    "just_dna_pipelines.defs.report",
    "polars",
    "pysam",
    "duckdb",
    "pyarrow",
    "jinja2",
    "huggingface_hub",
    "liftover",
)


def _imports(stderr: str) -> dict[str, float]:
    """Cumulative import seconds of the watched modules, from `-X importtime` lines."""
    found: dict[str, float] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] in WATCHED_IMPORTS and parts[1].isdigit():
            found[parts[2]] = int(parts[1]) / 1e6
    return found


def _run_events(home: Path) -> list[tuple[str, float]]:
    """Run start and end and each step's start and end of the home's latest run, from its event log."""
    os.environ["DAGSTER_HOME"] = str(home)
    import dagster as dg

    kinds = {
        dg.DagsterEventType.RUN_START: "run started",
        dg.DagsterEventType.RUN_SUCCESS: "run succeeded",
        dg.DagsterEventType.RUN_FAILURE: "run failed",
        dg.DagsterEventType.STEP_START: "step start",
        dg.DagsterEventType.STEP_SUCCESS: "step success",
        dg.DagsterEventType.STEP_FAILURE: "step failure",
    }
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(limit=1)
        if not runs:
            return []
        found = []
        for entry in instance.all_logs(runs[0].run_id):
            event = entry.dagster_event
            if event is not None and event.event_type in kinds:
                found.append((f"{kinds[event.event_type]} {entry.step_key or ''}".strip(), entry.timestamp))
        return found


def profile_once(command: list[str], keep_home: bool = False) -> dict:
    """Run the command once in a fresh child; return its timeline and imports.

    `keep_home` keeps the Dagster home of the previous run (a person's second command); outputs are fresh.
    """
    shutil.rmtree(WORK / "output", ignore_errors=True)
    if not keep_home:
        shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "dagster").mkdir(parents=True, exist_ok=True)
    (WORK / "output").mkdir()
    stamps_file = WORK / "stamps.json"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(WORK / "dagster"),
        "JUST_DNA_PIPELINES_OUTPUT_DIR": str(WORK / "output"),
        "JUST_DNA_PIPELINES_INPUT_DIR": str(WORK / "input"),
        STAMPS: str(stamps_file),
    }
    load = os.getloadavg()[0]
    started = time.time()
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", CHILD, *command],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    exited = time.time()
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    data = json.loads(stamps_file.read_text())
    timeline = [
        ("process start", started),
        *data["stamps"],
        *_run_events(WORK / "dagster"),
        ("process exit", exited),
    ]
    timeline.sort(key=lambda item: item[1])
    return {
        "load_1min": load,
        "wall_s": exited - started,
        "timeline": [(name, round(at - started, 3)) for name, at in timeline],
        "imports_s": _imports(proc.stderr),
        "output": proc.stdout,
    }


def main() -> None:
    """Profile the command N times and print each timeline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--warm-home",
        action="store_true",
        help="keep the Dagster home from one repeat to the next (the first run creates it)",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    for index in range(args.repeat):
        result = profile_once(command, keep_home=args.warm_home and index > 0)
        print(f"wall {result['wall_s']:.2f} s, 1-min load {result['load_1min']:.2f} at the start")
        previous = 0.0
        for name, at in result["timeline"]:
            print(f"  {at:7.3f} s  (+{at - previous:6.3f})  {name}")
            previous = at
        print("  imports (cumulative, under -X importtime, which inflates them ~10-20 %):")
        for name, seconds in sorted(result["imports_s"].items(), key=lambda kv: -kv[1]):
            print(f"    {seconds:6.3f} s  {name}")


if __name__ == "__main__":
    main()

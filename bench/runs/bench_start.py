"""Run click -> run started: how long `launch_run` takes and when the run is created, claimed, started, done.

    uv run python bench/runs/bench_start.py --runs 5

Demo modules and the demo sample, one user per run, one run at a time (each waits for the previous to end),
through the real warm worker; times are from the `launch_run` call to the run's Dagster events. Folders are
temporary.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from folders import use_fresh_folders  # bench/runs/folders.py (scripts run from their folder)

MARKS = {
    "run created in Dagster": None,  # the run record's creation time
    "claimed (STARTING)": "PIPELINE_STARTING",
    "RUN_START": "PIPELINE_START",
    "RUN_SUCCESS": "PIPELINE_SUCCESS",
}


def main() -> None:
    """Launch the runs one after another and print the medians."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-start-", ignore_cleanup_errors=True) as tmp:
        root = Path(tmp)
        use_fresh_folders(root)
        from just_dna_pipelines import service
        from just_dna_pipelines.modules.demo import ensure_demo_sample
        from just_dna_pipelines.runs import launcher
        from just_dna_pipelines.runs.instance import get_instance

        service.warm_up()
        rows: dict[str, list[float]] = {"launch_run returns": [], **{name: [] for name in MARKS}}
        for k in range(args.runs):
            user = f"user{k}"
            vcf = ensure_demo_sample(service.upload_path(user, "x.vcf").parent)
            service.register_sample(user, "demo_sample", vcf)
            clicked = time.time()
            run_id = service.launch_run(user, "demo_sample", ["longevitymap"])
            rows["launch_run returns"].append(time.time() - clicked)
            while not (info := service.get_run(run_id)).finished:
                time.sleep(0.1)
            assert info.status == "success", info
            instance = get_instance()
            seen: dict[str, float] = {}
            for entry in instance.all_logs(run_id):
                if entry.dagster_event is not None:
                    seen.setdefault(entry.dagster_event.event_type_value, entry.timestamp)
            record = instance.get_run_record_by_id(run_id)
            assert record is not None
            for name, event in MARKS.items():
                at = record.create_timestamp.timestamp() if event is None else seen[event]
                rows[name].append(at - clicked)
        for name, values in rows.items():
            print(
                f"{name}: median {statistics.median(values):.2f} s  ({', '.join(f'{v:.2f}' for v in values)})"
            )
        print(f"load {os.getloadavg()[0]:.1f}")
        launcher._worker.stop()


if __name__ == "__main__":
    main()

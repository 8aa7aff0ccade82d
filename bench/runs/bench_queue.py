"""Many users pressing Run at once: the queue, the cap, and how quickly the service answers meanwhile.

    uv run python bench/runs/bench_queue.py --users 10                      # chr21 genome, demo modules
    uv run python bench/runs/bench_queue.py --users 10 --modules-source bench/out/modules

Each user gets the real chr21 genome (../shared/fixtures/genomes/PG_NA12878_hg38-chr21.vcf.gz) as a sample;
all press Run (all modules) at once. While the runs go, it times the service calls a page view makes
(sample_runs + get_run, as the sample and run pages do) every 0.5 s, and records how many runs were in
progress at once and the queue positions shown. Runs go through the real warm worker, with the cap from
JUST_DNA_PIPELINES_MAX_CONCURRENT_RUNS (default: cores - 1). Folders are temporary.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from folders import use_fresh_folders  # bench/runs/folders.py (scripts run from their folder)

GENOME = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "fixtures"
    / "genomes"
    / "PG_NA12878_hg38-chr21.vcf.gz"
)


def main() -> None:
    """Run the scenario and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--modules-source", default="demo")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-queue-", ignore_cleanup_errors=True) as tmp:
        use_fresh_folders(Path(tmp), args.modules_source)
        from just_dna_pipelines import service
        from just_dna_pipelines.settings import get_settings

        service.warm_up()
        users = [f"user{i:02d}" for i in range(args.users)]
        for user in users:
            target = service.upload_path(user, GENOME.name)
            os.link(
                GENOME, target
            ) if GENOME.stat().st_dev == target.parent.stat().st_dev else target.write_bytes(
                GENOME.read_bytes()
            )
            service.register_sample(user, "PG_NA12878_hg38-chr21", target)
        modules = [m.name for m in service.list_modules()]
        started = time.monotonic()
        launches, runs = [], {}
        for user in users:
            t = time.perf_counter()
            runs[user] = service.launch_run(user, "PG_NA12878_hg38-chr21", modules)
            launches.append(time.perf_counter() - t)
        page_views, most_in_progress, positions_seen = [], 0, set()
        while True:
            in_progress, finished = 0, 0
            for user, run_id in runs.items():
                t = time.perf_counter()
                service.sample_runs(user, "PG_NA12878_hg38-chr21")
                info = service.get_run(run_id)
                page_views.append(time.perf_counter() - t)
                in_progress += info.status in {"starting", "running"}
                finished += info.finished
                if getattr(info, "queue_position", None) is not None:  # (absent before the queue existed)
                    positions_seen.add(info.queue_position)
            most_in_progress = max(most_in_progress, in_progress)
            if finished == len(runs):
                break
            time.sleep(0.5)
        total = time.monotonic() - started
        infos = [service.get_run(r) for r in runs.values()]
        durations = [i.ended_at - i.started_at for i in infos if i.started_at and i.ended_at]
        page_views.sort()
        print(
            f"users {args.users}, modules {len(modules)} ({args.modules_source}), cap {getattr(get_settings(), 'max_concurrent_runs', 'none')}"
        )
        print(f"launch_run: median {statistics.median(launches):.2f} s, max {max(launches):.2f} s")
        print(
            f"page view service calls during the runs: median {statistics.median(page_views) * 1000:.0f} ms, "
            f"p90 {page_views[int(len(page_views) * 0.9)] * 1000:.0f} ms, max {page_views[-1] * 1000:.0f} ms "
            f"({len(page_views)} calls)"
        )
        print(
            f"most runs in progress at once: {most_in_progress}; queue positions shown: {sorted(positions_seen)}"
        )
        print(
            f"statuses: {sorted(i.status for i in infos)}; run duration median {statistics.median(durations):.1f} s; "
            f"all done in {total:.1f} s; load {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()

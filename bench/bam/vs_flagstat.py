"""`pipelines stream-bam` end to end beside `samtools flagstat -@ 2` on the same BAM, alternating, N rounds.

Usage: uv run python bench/bam/vs_flagstat.py [--reads 30000000] [--rounds 5] [--threads 2]

Each round runs flagstat (`-@ THREADS`, default 2: both tools then use the machine's two cores) and our
command in a fresh process on a warm Dagster home made for the benchmark, writing into a folder of its own;
which of the two goes first alternates, and `sync` runs before each, so neither pays for the other's
write-back. Nothing is deleted between rounds: ext4 without a journal (as this VM's root file system is: its
`/proc/fs/jbd2` is empty) skips inodes freed in the last 60 s (360 s while their inode table block is dirty)
when it creates files, and checks each candidate in the inode table, so creating 30,000 files right after
deleting as many costs seconds of kernel time (`perf`: `recently_deleted` under `ext4_create`, and the two
writer threads spinning on the folder's lock meanwhile). The folders are deleted when the rounds are done and the
time is noted; an invocation within SETTLE_S of a deletion waits for the rest first. Wall time, CPU (user +
system) and peak RSS of each child come from wait4(). Prints one row per round and the median of the ratios
(flagstat's time / ours: >= 1.0 means we are at least as fast). The BAM is made by generate_bam.py if missing.
Issue 14's target: >= 1.0x `flagstat -@ 2` for 30 M reads, RSS < 300 MB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "out" / "bam"
# ext4's "recently deleted" window: 60 s, plus 300 s while an inode table block is dirty (90 s after deleting
# ~300,000 files still gave rounds with 6-19 s of kernel time here).
SETTLE_S = 360
DELETED_AT = (
    OUT / ".vs_flagstat_deleted_at"
)  # when this benchmark last deleted its files (seconds since epoch)


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float, int]:
    """(wall s, user s, system s, peak RSS MB) of one command; its output is discarded."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return wall, usage.ru_utime, usage.ru_stime, usage.ru_maxrss // 1024


def main() -> None:
    """Make the BAM if needed, then alternate the two commands and print the rounds."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reads", type=int, default=30_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="samtools flagstat -@ (default 2)")
    args = parser.parse_args()
    bam = OUT / f"synthetic_{args.reads}.bam"
    if not bam.exists():
        subprocess.run(
            [sys.executable, str(HERE / "generate_bam.py"), "--reads", str(args.reads), "--out", str(bam)],
            check=True,
        )
    work = OUT / "vs_flagstat"
    if work.exists():  # left by an interrupted invocation
        shutil.rmtree(work)
        DELETED_AT.write_text(str(time.time()))
    since = time.time() - float(DELETED_AT.read_text()) if DELETED_AT.exists() else SETTLE_S
    if since < SETTLE_S:
        print(
            f"files were deleted {since:.0f} s ago: waiting {SETTLE_S - since:.0f} s before measuring",
            flush=True,
        )
        time.sleep(SETTLE_S - since)
    home = work / "dagster_home"
    home.mkdir(parents=True)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "JUST_DNA_PIPELINES_OUTPUT_DIR": str(work / "output"),
        # each command in its own process: the CPU and peak RSS measured are then the command's own (a warm
        # server's child is not the timed process's child)
        "JUST_DNA_PIPELINES_WARM_SECONDS": "0",
    }
    pipelines = str(Path(sys.executable).with_name("pipelines"))
    # One run first: the Dagster home is prepared as after a user's first command, the BAM is in the page cache.
    timed([pipelines, "stream-bam", str(bam), "--output-dir", str(work / "warm-up")], env)
    print(
        f"{bam.name}: {args.reads:,} reads, {bam.stat().st_size / 1e6:.0f} MB; load {os.getloadavg()[0]:.1f}"
    )
    print(f"| round | flagstat -@ {args.threads} s | stream-bam s (user+sys CPU, RSS) | ratio |")
    print("|---|---|---|---|")
    ratios = []
    for round_ in range(1, args.rounds + 1):
        ours_first = round_ % 2 == 0
        results: dict[str, tuple[float, float, float, int]] = {}
        for which in ("ours", "flagstat") if ours_first else ("flagstat", "ours"):
            os.sync()
            if which == "flagstat":
                results[which] = timed(["samtools", "flagstat", "-@", str(args.threads), str(bam)])
            else:
                output = str(work / f"out-{round_}")
                results[which] = timed([pipelines, "stream-bam", str(bam), "--output-dir", output], env)
        anchor = results["flagstat"][0]
        wall, user, system, rss = results["ours"]
        ratios.append(anchor / wall)
        print(
            f"| {round_} | {anchor:.2f} | {wall:.2f} ({user:.1f} + {system:.1f} s, {rss} MB) | "
            f"{anchor / wall:.2f}x |"
        )
    print(f"\nmedian ratio {statistics.median(ratios):.2f}x; load after {os.getloadavg()[0]:.1f}")
    shutil.rmtree(work)
    DELETED_AT.write_text(str(time.time()))


if __name__ == "__main__":
    main()

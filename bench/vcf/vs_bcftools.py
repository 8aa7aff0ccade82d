"""`pipelines annotate-modules` on a warm Dagster home beside `bcftools view -Ou` on the same VCF, alternating.

Usage: uv run python bench/vcf/vs_bcftools.py [--vcf bench/out/wgs.vcf.gz] [--rounds 8] [--no-index]

What a person waits for after their first run: the Dagster home (made once under bench/out/vs_bcftools/, and
prepared by a first run that is not timed) and the compiled modules (bench/out/modules, as run_bench.sh makes
them) already exist. Each round times bcftools, then our command, each a fresh process (`.venv/bin/pipelines`,
not `uv run`, whose own start is not ours). `--no-index` runs on a hard link of the file without its index
(the one-pass scan). Prints a row per round and the median ratio (ours / bcftools; issue 14's targets: <= 0.5x
with an index, <= 1.0x without).
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

REPO = Path(__file__).resolve().parents[2]
WORK = REPO / "bench" / "out" / "vs_bcftools"


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    """Wall seconds of one run of `command` (its output discarded; a failure stops the benchmark)."""
    started = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vcf", type=Path, default=REPO / "bench" / "out" / "wgs.vcf.gz")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--no-index", action="store_true")
    args = parser.parse_args()
    modules = REPO / "bench" / "out" / "modules"
    if not args.vcf.is_file() or not (modules / "longevitymap").is_dir():
        sys.exit(
            "make the inputs first: bench/vcf/run_bench.sh --indexed (it generates the VCF and the modules)"
        )
    WORK.mkdir(parents=True, exist_ok=True)
    vcf = args.vcf.resolve()
    if args.no_index:
        vcf = WORK / "unindexed" / args.vcf.name
        vcf.parent.mkdir(exist_ok=True)
        vcf.unlink(missing_ok=True)
        os.link(args.vcf, vcf)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(WORK / "dagster"),
        "JUST_DNA_PIPELINES_OUTPUT_DIR": str(WORK / "output"),
    }
    ours = [
        str(REPO / ".venv" / "bin" / "pipelines"), "annotate-modules", "--vcf", str(vcf), "--user", "bench",
        "--modules-source", str(modules), "--no-report",
    ]  # fmt: skip
    bcftools = [shutil.which("bcftools") or "bcftools", "view", "-Ou", "-o", os.devnull, str(args.vcf)]
    timed(ours, env)  # prepares the home: not what is measured
    print(f"{vcf.name}{' (no index)' if args.no_index else ''}; load {os.getloadavg()[0]:.1f}")
    print("| round | bcftools view -Ou s | annotate-modules s | ratio |\n|---|---|---|---|")
    ratios = []
    for number in range(1, args.rounds + 1):
        anchor, took = timed(bcftools), timed(ours, env)
        ratios.append(took / anchor)
        print(f"| {number} | {anchor:.2f} | {took:.2f} | {ratios[-1]:.2f}x |", flush=True)
    print(f"\nmedian ratio {statistics.median(ratios):.2f}x (range {min(ratios):.2f}-{max(ratios):.2f}x)")


if __name__ == "__main__":
    main()

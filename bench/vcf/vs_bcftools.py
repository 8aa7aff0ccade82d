"""`pipelines annotate-modules` on a warm Dagster home beside `bcftools view -Ou` on the same VCF, alternating.

Usage: uv run python bench/vcf/vs_bcftools.py [--vcf bench/out/wgs.vcf.gz] [--rounds 8] [--no-index] [--cold]

What a person waits for after their first run: the Dagster home (made once under bench/out/vs_bcftools/, and
prepared by a first run that is not timed) and the compiled modules (bench/out/modules, as run_bench.sh makes
them) already exist. Each round times bcftools, then our command, each a fresh process (`.venv/bin/pipelines`,
not `uv run`, whose own start is not ours). `--no-index` runs on a hard link of the file without its index
(the one-pass scan). Prints a row per round and the median ratio (ours / bcftools; issue 14's targets: <= 0.5x
with an index, <= 1.0x without).

By default the commands are served by the warm command server the untimed first run starts (cli/warm_server.py),
as a person's second and later commands are; `--cold` runs every command in a fresh process of its own.
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


def wait_for_warm_server(since: float, limit: float = 120.0) -> None:
    """Wait until a warm server listens: one started after `since` (its socket appears in this user's folder),
    or one that served the first run (its log was written since)."""
    from just_dna_pipelines.cli.warm_place import private_folder

    folder = private_folder()
    deadline = time.monotonic() + limit
    while folder is not None and time.monotonic() < deadline:
        if any(
            path.stat().st_mtime >= since for pattern in ("*.sock", "*.log") for path in folder.glob(pattern)
        ):
            return
        time.sleep(0.2)
    sys.exit("no warm command server started; run with --cold, or check JUST_DNA_PIPELINES_WARM_SECONDS")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vcf", type=Path, default=REPO / "bench" / "out" / "wgs.vcf.gz")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--no-index", action="store_true")
    parser.add_argument(
        "--cold", action="store_true", help="no warm command server: each command starts afresh"
    )
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
    if args.cold:
        env["JUST_DNA_PIPELINES_WARM_SECONDS"] = "0"
    else:
        env.setdefault("JUST_DNA_PIPELINES_WARM_SECONDS", "600")
    started = time.time()
    timed(ours, env)  # prepares the home (and starts the warm server): not what is measured
    if not args.cold:
        wait_for_warm_server(started)
    how = "each command afresh" if args.cold else "served warm"
    print(f"{vcf.name}{' (no index)' if args.no_index else ''}, {how}; load {os.getloadavg()[0]:.1f}")
    print("| round | bcftools view -Ou s | annotate-modules s | ratio |\n|---|---|---|---|")
    ratios = []
    for number in range(1, args.rounds + 1):
        anchor, took = timed(bcftools), timed(ours, env)
        ratios.append(took / anchor)
        print(f"| {number} | {anchor:.2f} | {took:.2f} | {ratios[-1]:.2f}x |", flush=True)
    print(f"\nmedian ratio {statistics.median(ratios):.2f}x (range {min(ratios):.2f}-{max(ratios):.2f}x)")


if __name__ == "__main__":
    main()

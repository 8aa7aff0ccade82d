"""Ensembl join benchmark: both engines on one synthetic sample and reference, wall time and peak RSS each.

`uv run python bench/ensembl/run_bench.py [--out bench/out/ensembl] [--sample-records 5000000]
 [--reference-rows 20000000]`

Inputs are generated once by `synthetic.py` (kept between runs). Each engine runs in its own child process
(so its peak RSS is its own) on a warm page cache; the annotated table alone is timed (the VCF output and
the rsID fill are separate steps). Target: >= 2 M variants/s and < 1.5 GB peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHILD = """
import json, resource, sys, time
from pathlib import Path
from just_dna_pipelines.ensembl.engine_duckdb import annotate_duckdb, machine_limits
from just_dna_pipelines.ensembl.engine_polars import annotate_polars
from just_dna_pipelines.ensembl.source import local_contig_files
engine, sample, reference, out, spill, memory = sys.argv[1:7]
files = local_contig_files(Path(reference))
started = time.perf_counter()
if engine == "polars":
    rows = annotate_polars(Path(sample), files, Path(out))
else:
    rows = annotate_duckdb(Path(sample), files, Path(out), machine_limits(Path(spill), memory_limit=memory or None))
seconds = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)  # the whole child: start-up, engine, write
peak_mb = usage.ru_maxrss / 1024
print(json.dumps({"rows": rows, "seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "peak_rss_mb": peak_mb}))
"""


def run_engine(engine: str, out: Path, memory: str) -> dict:
    """One engine in a child process: rows, join seconds, wall seconds, peak RSS."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", CHILD, engine, str(out / "sample.parquet"), str(out / "reference"),
         str(out / f"annotated_{engine}.parquet"), str(out / "spill"), memory],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    wall = time.perf_counter() - started
    return json.loads(result.stdout.strip().splitlines()[-1]) | {"wall": wall}


def main() -> None:
    """Generate the inputs if needed, run both engines, print a Markdown table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=HERE.parent / "out" / "ensembl")
    parser.add_argument("--sample-records", type=int, default=5_000_000)
    parser.add_argument("--reference-rows", type=int, default=20_000_000)
    parser.add_argument("--engines", default="duckdb,polars")
    parser.add_argument(
        "--duckdb-memory", default="", help="DuckDB memory_limit, e.g. 1GB (default: 75%% of RAM)"
    )
    args = parser.parse_args()
    if not (args.out / "sample.parquet").is_file():
        subprocess.run(
            [sys.executable, str(HERE / "synthetic.py"), str(args.out), "--sample-records", str(args.sample_records),
             "--reference-rows", str(args.reference_rows)],
            check=True,
        )  # fmt: skip
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    print(f"DuckDB memory_limit: {args.duckdb_memory or '75% of RAM'}")
    print(
        "| engine | rows | join s | wall s (incl. start-up) | CPU s (incl. start-up) | variants/s | peak RSS MB |"
    )
    print("|---|---|---|---|---|---|---|")
    for engine in args.engines.split(","):
        facts = run_engine(engine, args.out, args.duckdb_memory)
        rate = facts["rows"] / facts["seconds"]
        print(
            f"| {engine} | {facts['rows']:,} | {facts['seconds']:.2f} | {facts['wall']:.2f} | {facts['cpu']:.1f} | "
            f"{rate / 1e6:.2f} M | {facts['peak_rss_mb']:,.0f} |",
            flush=True,
        )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

"""Time the chunk statistics of the same reads as BAM, CRAM and SAM (plain, BGZF) beside `samtools flagstat`.

Usage: uv run python bench/bam/bench_formats.py [--reads 3000000] [--repeats 3] [--python-reads 300000]

The synthetic BAM comes from generate_bam.py (bench/out/bam/synthetic_<reads>.bam, reused if there); samtools
writes the other formats beside it: a reference-free CRAM 3.0 (`no_ref=1`: the synthetic reads are random
bases, so no reference would compress them; decoding FLAG/RNAME/POS/MAPQ reads the same data series either
way), plain SAM and BGZF SAM. Per format, interleaved, best and median of the repeats, streaming only
(`iter_chunk_stats` after imports, chunk size 1000; no Dagster, no JSON):
- `samtools flagstat` (Debian 1.16.1, one thread),
- the streamer as shipped (C loop; CRAM and SAM decoded on one thread),
- for CRAM, htslib's decoder on a 2-thread pool with the same C loop: the speed given up by decoding on one
  thread (htslib's threaded CRAM reader turns a damaged container into a silent end of file),
- the Python fallback loop, on the first `--python-reads` reads only (it makes one ctypes call per read).
Figures go to bench/out/bam/formats.json.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from just_dna_pipelines.bam.chunk_stats import iter_chunk_stats
from just_dna_pipelines.bam.hts_records import HtsRecordReader
from just_dna_pipelines.bam.htslib import htslib
from just_dna_pipelines.bam.scan_records import native_record_batches, python_record_batches
from just_dna_pipelines.bam.source import detect, locate

HERE = Path(__file__).resolve().parent
OUT = HERE.parents[1] / "bench" / "out" / "bam"


def _formats(bam: Path) -> dict[str, Path]:
    """The BAM and its CRAM / SAM / BGZF SAM twins (written once)."""
    files = {
        "BAM": bam,
        "CRAM 3.0 (no_ref)": bam.with_suffix(".cram"),
        "SAM": bam.with_suffix(".sam"),
        "SAM (BGZF)": bam.with_suffix(".sam.gz"),
    }
    options = {
        "CRAM 3.0 (no_ref)": ["-C", "--output-fmt-option", "no_ref=1"],
        "SAM": ["-O", "sam"],
        "SAM (BGZF)": ["-O", "sam,level=6"],
    }
    for label, args in options.items():
        if not files[label].exists():
            command = [
                "samtools",
                "view",
                "-h",
                "--no-PG",
                "-@",
                "2",
                *args,
                "-o",
                str(files[label]),
                str(bam),
            ]
            subprocess.run(command, check=True)
    return files


def _timed(run: Callable[[], int], repeats: int) -> dict:
    """Best and median wall seconds of `run` (which returns the reads it counted)."""
    walls, reads = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        reads = run()
        walls.append(time.perf_counter() - started)
    return {"reads": reads, "best_s": min(walls), "median_s": statistics.median(walls), "walls": walls}


def _flagstat(path: Path) -> int:
    first = subprocess.run(["samtools", "flagstat", str(path)], capture_output=True, check=True, text=True)
    return int(first.stdout.split(" ", 1)[0])


def _streamed(path: Path) -> int:
    return sum(chunk.total_reads for chunk in iter_chunk_stats(locate(str(path)), 1000))


def _threaded_cram(path: Path) -> int:
    """The same C loop over htslib's decoder with a 2-thread pool (what the streamer does not do)."""
    lib = htslib()
    lib.hts_set_threads.argtypes = [ctypes.c_void_p, ctypes.c_int]
    with HtsRecordReader(str(path), detect(locate(str(path)))) as reader:
        if lib.hts_set_threads(ctypes.cast(reader.file, ctypes.c_void_p), 2):
            raise SystemExit("htslib threads failed")
        return sum(c.total_reads for batch in native_record_batches(reader, 1000) for c in batch)


def _python_loop(path: Path, limit: int) -> int:
    """The Python fallback over the first `limit` reads (one ctypes call each)."""
    with HtsRecordReader(str(path), detect(locate(str(path)))) as reader:
        batches = python_record_batches(reader, 1000, limit)
        return sum(c.total_reads for c in next(batches))


def main() -> None:
    """Generate inputs if needed, time every format, print and save."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=3_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--python-reads", type=int, default=300_000)
    args = parser.parse_args()
    bam = OUT / f"synthetic_{args.reads}.bam"
    if not bam.exists():
        generator = [
            sys.executable,
            str(HERE / "generate_bam.py"),
            "--reads",
            str(args.reads),
            "--out",
            str(bam),
        ]
        subprocess.run(generator, check=True)
    results: dict = {"reads": args.reads, "htslib": htslib().hts_version().decode(), "formats": {}}
    for label, path in _formats(bam).items():
        row = {"bytes": path.stat().st_size, "flagstat": _timed(lambda p=path: _flagstat(p), args.repeats)}
        row["streamer"] = _timed(lambda p=path: _streamed(p), args.repeats)
        if label.startswith("CRAM"):
            row["cram_2_threads"] = _timed(lambda p=path: _threaded_cram(p), args.repeats)
        if label != "BAM":
            row["python_loop"] = _timed(lambda p=path: _python_loop(p, args.python_reads), args.repeats)
        results["formats"][label] = row
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "formats.json").write_text(json.dumps(results, indent=2))
    print(f"{args.reads:,} reads, htslib {results['htslib']}")
    for label, row in results["formats"].items():
        print(f"{label} ({row['bytes'] / 1e6:.0f} MB)")
        for name, figures in row.items():
            if isinstance(figures, dict):
                rate = figures["reads"] / figures["best_s"] / 1e6
                print(
                    f"  {name:15s} best {figures['best_s']:6.2f} s  median {figures['median_s']:6.2f} s  "
                    f"{rate:5.2f} M reads/s  ({figures['reads']:,} reads)"
                )


if __name__ == "__main__":
    main()

"""Time the VCF normalization step alone, and the cost of its parts, on a whole-genome VCF.gz.

Each variant sinks the same lazy query (or a part of it) to Parquet in a temp folder:
  full          `normalize_vcf` as the pipeline runs it (query + summary)
  no-dp-gq      the query without the FORMAT/DP and FORMAT/GQ lookups
  scan-only     the raw scan of the 10 columns, no derived columns

Usage: uv run python bench/vcf/profile_normalize.py [VCF.gz] [--repeat N]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

from just_dna_pipelines.io.vcf_filters import VcfFilters
from just_dna_pipelines.io.vcf_header import read_vcf_header
from just_dna_pipelines.io.vcf_normalize import choose_sample, normalize_vcf, normalized_calls

DEFAULT_VCF = Path(__file__).resolve().parents[2] / "bench" / "out" / "wgs.vcf.gz"


def variants(vcf: Path) -> dict[str, Callable[[Path], None]]:
    """The timed variants, each writing Parquet to the given path."""
    header = read_vcf_header(vcf)
    sample = choose_sample(header, None)
    filters = VcfFilters()

    def full(out: Path) -> None:
        normalize_vcf(vcf, out, filters=filters)

    def no_dp_gq(out: Path) -> None:
        query = normalized_calls(vcf, header, sample, filters).with_columns(
            dp=pl.lit(None, pl.Int64), gq=pl.lit(None, pl.Int64)
        )
        query.sink_parquet(out, compression="zstd")

    def scan_only(out: Path) -> None:
        pl.scan_csv(
            vcf, separator="\t", comment_prefix="##", infer_schema=False, quote_char=None
        ).sink_parquet(out, compression="zstd")

    return {"full": full, "no-dp-gq": no_dp_gq, "scan-only": scan_only}


def main() -> None:
    """Print the fastest wall time of each variant."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vcf", type=Path, nargs="?", default=DEFAULT_VCF)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="profile-normalize-") as tmp:
        for name, run in variants(args.vcf).items():
            best = float("inf")
            for i in range(args.repeat):
                started = time.perf_counter()
                run(Path(tmp) / f"{name}-{i}.parquet")
                best = min(best, time.perf_counter() - started)
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{name:<10} {best:6.1f} s   (process peak RSS so far {peak_mb:.0f} MB)", flush=True)


if __name__ == "__main__":
    main()

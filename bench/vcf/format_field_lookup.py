"""Compare ways to read FORMAT/DP and FORMAT/GQ of one sample with Polars (the costly part of normalization).

  A  list.eval(index_of): the field's index found per row inside a list expression (what vcf_normalize does)
  B  the index counted from the FORMAT prefix matched by a regex
  C  a fixed index when FORMAT equals the file's most common FORMAT, else A
  D  the index counted from the FORMAT prefix found by a literal search (vcf_normalize since 175b2e4)
  E  a fixed index when FORMAT equals the file's most common FORMAT, else D

Each variant sinks CHROM, POS, dp, gq to Parquet; rounds are interleaved and the fastest of each is kept.
Usage: uv run python bench/vcf/format_field_lookup.py [VCF.gz] [--rounds N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

DEFAULT_VCF = Path(__file__).resolve().parents[2] / "bench" / "out" / "wgs.vcf.gz"


def scan(vcf: Path) -> pl.LazyFrame:
    """The 10 VCF columns as strings, the sample column renamed SAMPLE."""
    frame = pl.scan_csv(vcf, separator="\t", comment_prefix="##", infer_schema=False, quote_char=None)
    return frame.rename({frame.collect_schema().names()[9]: "SAMPLE"})


def by_list_eval(field: str) -> pl.Expr:
    """A: index_of inside list.eval (vcf_normalize before 175b2e4)."""
    index = pl.col("FORMAT").str.split(":").list.eval(pl.element().index_of(field)).list.first()
    return pl.col("SAMPLE").str.split(":").list.get(index, null_on_oob=True)


def by_prefix_count(field: str) -> pl.Expr:
    """B: count the separators before the field."""
    prefix = pl.col("FORMAT").str.extract(rf"^((?:[^:]*:)*?){field}(?::|$)", 1)
    return pl.col("SAMPLE").str.split(":").list.get(prefix.str.count_matches(":"), null_on_oob=True)


def by_literal_find(field: str) -> pl.Expr:
    """D: count the separators before the field, found by a literal search in ":FORMAT:"."""
    padded = pl.concat_str([pl.lit(":"), pl.col("FORMAT"), pl.lit(":")])
    position = padded.str.slice(0, padded.str.find(f":{field}:", literal=True)).str.count_matches(
        ":", literal=True
    )
    return pl.col("SAMPLE").str.split(":").list.get(position, null_on_oob=True)


def fast_path(common: str, general: Callable[[str], pl.Expr]) -> Callable[[str], pl.Expr]:
    """C / E: a constant index for the common FORMAT, the general lookup otherwise."""

    def lookup(field: str) -> pl.Expr:
        if field not in common.split(":"):
            return general(field)
        fixed = pl.col("SAMPLE").str.split(":").list.get(common.split(":").index(field), null_on_oob=True)
        return pl.when(pl.col("FORMAT") == common).then(fixed).otherwise(general(field))

    return lookup


def main() -> None:
    """Print the fastest time of each variant and check they agree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vcf", type=Path, nargs="?", default=DEFAULT_VCF)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    common = scan(args.vcf).select("FORMAT").head(1000).collect()["FORMAT"].mode()[0]
    variants: dict[str, Callable[[str], pl.Expr] | None] = {
        "no FORMAT lookup": None,
        "A list.eval(index_of)": by_list_eval,
        "B regex prefix count": by_prefix_count,
        "C common-FORMAT fast path, A": fast_path(common, by_list_eval),
        "D literal find": by_literal_find,
        "E common-FORMAT fast path, D": fast_path(common, by_literal_find),
    }
    best = dict.fromkeys(variants, float("inf"))
    with tempfile.TemporaryDirectory(prefix="format-lookup-") as tmp:
        for _ in range(args.rounds):
            for name, lookup in variants.items():
                fields = (
                    [lookup(f).cast(pl.Int64, strict=False).alias(f.lower()) for f in ("DP", "GQ")]
                    if lookup
                    else []
                )
                started = time.perf_counter()
                scan(args.vcf).select("#CHROM", "POS", *fields).sink_parquet(Path(tmp) / "out.parquet")
                best[name] = min(best[name], time.perf_counter() - started)
    for name, seconds in best.items():
        print(f"{name:<32} {seconds:6.2f} s")
    check = (
        scan(args.vcf)
        .head(200_000)
        .select(
            a=by_list_eval("DP"),
            b=by_prefix_count("DP"),
            c=fast_path(common, by_list_eval)("DP"),
            d=by_literal_find("DP"),
            e=fast_path(common, by_literal_find)("DP"),
        )
        .collect()
    )
    same = {name.upper(): check["a"].equals(check[name]) for name in "bcde"}
    print(f"same values as A on the first 200,000 records: {same}")


if __name__ == "__main__":
    main()

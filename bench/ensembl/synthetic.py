"""Synthetic inputs for the Ensembl join benchmark: a normalized sample and a reference in the dataset's layout.

`uv run python bench/ensembl/synthetic.py OUT --sample-records 5000000 --reference-rows 20000000`

The sample has the columns `user_vcf_normalized` writes (no rsIDs, 3 % multi-allelic); the reference holds
about 70 % of the sample's alleles (same chrom/start/ref/alt) plus background rows, with Ensembl-like INFO
columns (variant class, allele frequencies, clinical significance, evidence flags). Randomness comes from
hashing row numbers with a seed, so the files are the same on every machine.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl

# GRCh38 lengths of the contigs the sample covers (chrY/MT get a few reference rows only).
LENGTHS = {
    "1": 248_956_422, "2": 242_193_529, "3": 198_295_559, "4": 190_214_555, "5": 181_538_259,
    "6": 170_805_979, "7": 159_345_973, "8": 145_138_636, "9": 138_394_717, "10": 133_797_422,
    "11": 135_086_622, "12": 133_275_309, "13": 114_364_328, "14": 107_043_718, "15": 101_991_189,
    "16": 90_338_345, "17": 83_257_441, "18": 80_373_285, "19": 58_617_616, "20": 64_444_167,
    "21": 46_709_983, "22": 50_818_468, "X": 156_040_895,
}  # fmt: skip


def _rand(n: int, seed: int) -> pl.Expr:
    """A reproducible pseudo-random u64 per row."""
    return pl.int_range(0, n, dtype=pl.UInt64).hash(seed)


def _base(expr: pl.Expr) -> pl.Expr:
    """One of A/C/G/T chosen by the value."""
    return (
        pl.when(expr % 4 == 0)
        .then(pl.lit("A"))
        .when(expr % 4 == 1)
        .then(pl.lit("C"))
        .when(expr % 4 == 2)
        .then(pl.lit("G"))
        .otherwise(pl.lit("T"))
    )


def contig_counts(total: int) -> dict[str, int]:
    """Records per contig, proportional to contig length."""
    genome = sum(LENGTHS.values())
    counts = {c: total * length // genome for c, length in LENGTHS.items()}
    counts["1"] += total - sum(counts.values())
    return counts


def make_sample(records: int, seed: int = 7) -> pl.DataFrame:
    """A normalized sample: sorted positions per contig, SNVs with 3 % two-alt records, het/hom genotypes."""
    parts = []
    for index, (contig, n) in enumerate(contig_counts(records).items()):
        step = LENGTHS[contig] // (n + 1)
        r = _rand(n, seed + index)
        ref = _base(r // 8)
        alt1 = _base((r // 8) + 1 + (r // 128) % 3)
        alt2 = _base((r // 8) + 1 + ((r // 128) + 1) % 3)
        multi = (r % 100) < 3
        het = (r // 2048) % 3 != 0
        frame = pl.select(
            pl.lit(contig).alias("chrom"),
            (pl.int_range(1, n + 1, dtype=pl.Int64) * step + (r // 8192).cast(pl.Int64) % step).alias(
                "start"
            ),
            ref.alias("ref"),
            pl.when(multi).then(pl.concat_list(alt1, alt2)).otherwise(pl.concat_list(alt1)).alias("alts"),
            multi.alias("_multi"),
            het.alias("_het"),
            ((r // 131072) % 60).cast(pl.Float64).alias("qual"),
            ((r // 8388608) % 50).cast(pl.Int64).alias("dp"),
            ((r // 536870912) % 99).cast(pl.Int64).alias("gq"),
        )
        parts.append(frame)
    sample = pl.concat(parts)
    gt = (
        pl.when(pl.col("_multi"))
        .then(pl.lit("1|2"))
        .when(pl.col("_het"))
        .then(pl.lit("0|1"))
        .otherwise(pl.lit("1|1"))
    )
    genotype = (
        pl.when(pl.col("_multi"))
        .then(pl.col("alts"))
        .when(pl.col("_het"))
        .then(pl.concat_list(pl.col("ref"), pl.col("alts").list.first()))
        .otherwise(pl.concat_list(pl.col("alts").list.first(), pl.col("alts").list.first()))
        .list.sort()
    )
    zygosity = pl.when(pl.col("_het") | pl.col("_multi")).then(pl.lit("het")).otherwise(pl.lit("hom_alt"))
    return sample.select(
        "chrom",
        "start",
        pl.col("start").alias("end"),
        "ref",
        "alts",
        pl.lit(None, dtype=pl.String).alias("rsid"),
        "qual",
        pl.lit("PASS").alias("filter"),
        gt.alias("gt"),
        genotype.alias("genotype"),
        zygosity.alias("zygosity"),
        "dp",
        "gq",
        pl.lit(False).alias("ref_block"),
        pl.lit(True).alias("passes_filters"),
    )


def make_reference(sample: pl.DataFrame, rows: int, out: Path, seed: int = 11) -> dict[str, int]:
    """Write `out/data/homo_sapiens-chr{c}.parquet`: ~70 % of the sample's alleles plus background rows."""
    alleles = sample.select("chrom", "start", "ref", pl.col("alts").alias("alt")).explode("alt")
    kept = alleles.filter(_rand(alleles.height, seed) % 10 < 7)
    background = max(rows - kept.height, 0)
    written = {}
    (out / "data").mkdir(parents=True, exist_ok=True)
    for index, (contig, n) in enumerate(contig_counts(background).items()):
        r = _rand(n, seed + 100 + index)
        extra = pl.select(
            pl.lit(contig).alias("chrom"),
            ((r // 32) % LENGTHS[contig] + 1).cast(pl.Int64).alias("start"),
            _base(r // 8).alias("ref"),
            _base((r // 8) + 1 + (r // 512) % 3).alias("alt"),
        )
        contig_rows = pl.concat([kept.filter(pl.col("chrom") == contig), extra]).sort("start")
        m = contig_rows.height
        r = _rand(m, seed + 200 + index)
        frequency = ((r // 256) % 10_000).cast(pl.Float64) / 10_000
        table = contig_rows.select(
            "chrom",
            pl.col("start").cast(pl.UInt32),
            "ref",
            "alt",
            pl.format("rs{}", (r // 1048576) % 2_000_000_000).alias("id"),
            pl.when(r % 10 < 8).then(pl.lit("SNV")).otherwise(pl.lit("insertion")).alias("TSA"),
            frequency.alias("MAF"),
            (frequency * 0.9).alias("AFR"),
            (frequency * 1.1).alias("AMR"),
            (frequency * 0.5).alias("EAS"),
            (frequency * 1.2).alias("EUR"),
            (frequency * 0.8).alias("SAS"),
            pl.when(r % 97 == 0)
            .then(pl.lit("pathogenic"))
            .when(r % 31 == 0)
            .then(pl.lit("benign"))
            .alias("CLIN_SIG"),
            ((r // 1073741824) % 2 == 0).alias("E_Freq"),
            ((r // 2147483648) % 3 == 0).alias("E_1000G"),
        )
        table.write_parquet(
            out / "data" / f"homo_sapiens-chr{contig}.parquet", compression="zstd", statistics=True
        )
        written[contig] = m
    return written


def main() -> None:
    """Write sample.parquet and the reference folder."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--sample-records", type=int, default=5_000_000)
    parser.add_argument("--reference-rows", type=int, default=20_000_000)
    args = parser.parse_args()
    started = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    sample = make_sample(args.sample_records)
    sample.write_parquet(args.out / "sample.parquet", compression="zstd", statistics=True)
    counts = make_reference(sample, args.reference_rows, args.out / "reference")
    print(
        f"sample: {sample.height:,} records; reference: {sum(counts.values()):,} rows in {len(counts)} files "
        f"({time.perf_counter() - started:.1f} s) -> {args.out}"
    )


if __name__ == "__main__":
    main()

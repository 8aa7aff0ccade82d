"""Annotate a sample's variants with the Ensembl reference in Polars: lazy scans, a streaming Parquet write.

The reference is first cut down to the sample's positions (a filter pushed into each file's scan, so other
columns are decoded only for those rows), duplicates of a key are resolved (an rsID first, then the smallest
`id`), and only then joined to the sample, so memory follows the sample, not the 1-billion-row reference.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from just_dna_pipelines.ensembl.columns import (
    ENSEMBL_ID,
    RSID_ONLY,
    SYMBOLIC_ALTS,
    ColumnPlan,
    parquet_columns,
    plan_columns,
    reference_columns,
)
from just_dna_pipelines.ensembl.layout import KEY_COLUMNS
from just_dna_pipelines.io.atomic import atomic_path


def sample_alleles(calls_path: Path, plan: ColumnPlan) -> pl.LazyFrame:
    """The sample's calls, one row per ALT allele (`alt` null where a record has none), ref blocks dropped."""
    calls = pl.scan_parquet(calls_path).with_row_index("record")
    return (
        calls.filter(~pl.col("ref_block"))
        .with_columns(
            pl.col("alts").alias("alt"),
            pl.int_ranges(1, pl.col("alts").list.len() + 1, dtype=pl.Int32).alias("alt_index"),
        )
        .explode("alt", "alt_index", empty_as_null=True)
        .filter(pl.col("alt").is_null() | ~pl.col("alt").is_in(SYMBOLIC_ALTS))
        .select(
            "chrom",
            "start",
            "ref",
            "alt",
            "rsid",
            *plan.sample,
            pl.col("record").cast(pl.Int64),
            "alt_index",
        )
    )


def sample_positions(sample: pl.LazyFrame) -> dict[str, pl.Series]:
    """The distinct positions of the sample's alleles, by contig (a few MB even for a whole genome)."""
    positions = sample.filter(pl.col("alt").is_not_null()).select("chrom", "start").unique().collect()
    return {chrom: part["start"] for (chrom,), part in positions.partition_by("chrom", as_dict=True).items()}


def reference_near(files: dict[str, Path], plan: ColumnPlan, positions: dict[str, pl.Series]) -> pl.LazyFrame:
    """The reference rows at the sample's positions, with the output's column names.

    The position filter is pushed into each file's scan, so the other columns are decoded only for the rows
    that pass it; files of contigs the sample has no allele on are not read at all.
    """
    frames = []
    for contig, path in files.items():
        if contig not in positions:
            continue
        present = set(parquet_columns(path))
        frames.append(
            pl.scan_parquet(path)
            .filter(pl.col("start").cast(pl.Int64).is_in(positions[contig].implode()))
            .select(
                pl.lit(contig).alias("chrom"),
                pl.col("start").cast(pl.Int64),
                pl.col("ref").cast(pl.String),
                pl.col("alt").cast(pl.String),
                *(
                    (pl.col(old) if old in present else pl.lit(None)).alias(new)
                    for old, new in plan.reference.items()
                ),
            )
        )
    if not frames:
        return pl.LazyFrame(
            schema={"chrom": pl.String, "start": pl.Int64, "ref": pl.String, "alt": pl.String}
        )
    return pl.concat(frames, how="diagonal_relaxed")


def reference_matches(sample: pl.LazyFrame, files: dict[str, Path], plan: ColumnPlan) -> pl.DataFrame:
    """The reference rows whose key is one of the sample's alleles, one per key (at most one per sample allele)."""
    alleles = sample.select(*KEY_COLUMNS).filter(pl.col("alt").is_not_null()).unique()
    near = reference_near(files, plan, sample_positions(sample))
    split = near.with_columns(pl.col("alt").str.split(",")).explode("alt")
    matched = split.join(alleles, on=list(KEY_COLUMNS), how="semi").collect()
    for name in plan.reference.values():  # a column no file has is null, typed as text
        if name not in matched.columns:
            matched = matched.with_columns(pl.lit(None, dtype=pl.String).alias(name))
    repeated = matched.select(pl.struct(*KEY_COLUMNS).is_duplicated()).to_series()
    if not repeated.any():  # the usual case: nothing to resolve, no sort
        return matched
    return pl.concat([matched.filter(~repeated), first_per_key(matched.filter(repeated).lazy()).collect()])


def first_per_key(matched: pl.LazyFrame) -> pl.LazyFrame:
    """One reference row per key (Ensembl lists some alleles twice): an rsID before other ids, then the smallest."""
    not_rsid = ~pl.col(ENSEMBL_ID).fill_null("").str.contains(RSID_ONLY)
    return (
        matched.with_columns(not_rsid.alias("_not_rsid"))
        .sort(*KEY_COLUMNS, "_not_rsid", ENSEMBL_ID, nulls_last=True)
        .unique(subset=list(KEY_COLUMNS), keep="first", maintain_order=True)
        .drop("_not_rsid")
    )


def annotate_polars(calls_path: Path, files: dict[str, Path], output: Path) -> int:
    """Write `output` (Parquet, atomically): the sample's alleles with the reference's columns; return its rows."""
    plan = plan_columns(parquet_columns(calls_path), reference_columns(files.values()))
    sample = sample_alleles(calls_path, plan)
    matched = reference_matches(sample, files, plan).lazy()
    # Rows come out in no particular order (sorting 5 M wide rows costs more than the join); `record` and
    # `alt_index` give the VCF's order, and the VCF writer sorts by them.
    annotated = sample.join(matched, on=list(KEY_COLUMNS), how="left", nulls_equal=False)
    with atomic_path(output) as tmp:
        annotated.select(plan.output).sink_parquet(tmp, compression="zstd", statistics=True)
    return int(pl.scan_parquet(output).select(pl.len()).collect().item())

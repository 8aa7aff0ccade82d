"""Genotype-aware matching with Polars (lazy): site calls, then weights rows whose genotype equals the call."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from just_dna_pipelines.annotation.sites import SITE_CALL_SCHEMA

USABLE = ("called", "inferred_hom_ref")


def _candidate_calls(
    calls: pl.LazyFrame, sites: pl.DataFrame, use_coordinates: bool, match_rsids: bool
) -> pl.DataFrame:
    """Every (site, VCF record) pair: by position where coordinates are usable, else by rsid."""
    by_position = sites.filter(pl.col("start").is_not_null() & pl.lit(use_coordinates))
    by_rsid = sites.filter(~(pl.col("start").is_not_null() & pl.lit(use_coordinates)) & pl.lit(match_rsids))
    variant_calls = calls.filter(~pl.col("ref_block")).select(
        "chrom",
        "start",
        "rsid",
        pl.col("ref").alias("call_ref"),
        "gt",
        "genotype",
        "zygosity",
        "passes_filters",
    )
    parts = []
    if by_position.height:
        keys = by_position.select("chrom", "start").unique().lazy()
        near = variant_calls.join(keys, on=["chrom", "start"], how="semi").drop("rsid")
        parts.append(by_position.lazy().join(near, on=["chrom", "start"], how="inner"))
    if by_rsid.height:
        ids = by_rsid.select("rsid").unique().lazy()
        named = variant_calls.join(ids, on="rsid", how="semi").drop("chrom", "start")
        parts.append(by_rsid.lazy().join(named, on="rsid", how="inner"))
    if not parts:
        return pl.DataFrame()
    return pl.concat(parts).collect()


def site_calls(
    calls_path: Path,
    sites: pl.DataFrame,
    ref_intervals: pl.DataFrame,
    *,
    use_coordinates: bool,
    match_rsids: bool,
) -> pl.DataFrame:
    """Classify every module site: called, no_call, inferred_hom_ref or not_testable (with the reason)."""
    candidates = _candidate_calls(pl.scan_parquet(calls_path), sites, use_coordinates, match_rsids)
    if candidates.height:
        ref_ok = pl.col("ref").is_null() | (pl.col("call_ref") == pl.col("ref"))
        usable = pl.col("passes_filters") & pl.col("genotype").is_not_null()
        genotype = (
            pl.when(pl.col("zygosity") == "hemizygous")
            .then(pl.concat_list([pl.col("genotype"), pl.col("genotype")]))
            .otherwise(pl.col("genotype"))
        )
        best = (
            candidates.with_columns(ref_ok.alias("ref_ok"), usable.alias("usable"))
            .sort(["ref_ok", "usable"], descending=True)
            .group_by("module", "rsid", maintain_order=True)
            .first()
            .select(
                "module",
                "rsid",
                pl.when(~pl.col("ref_ok"))
                .then(pl.lit("not_testable"))
                .when(pl.col("usable"))
                .then(pl.lit("called"))
                .otherwise(pl.lit("no_call"))
                .alias("status"),
                pl.when(~pl.col("ref_ok"))
                .then(pl.lit("ref_mismatch"))
                .when(pl.col("usable"))
                .then(pl.lit(None, dtype=pl.String))
                .when(pl.col("genotype").is_null())
                .then(pl.lit("no_call"))
                .otherwise(pl.lit("filtered"))
                .alias("reason"),
                "gt",
                pl.when(pl.col("ref_ok") & pl.col("usable"))
                .then(genotype.list.sort().list.join("/"))
                .alias("genotype_key"),
            )
        )
    else:
        best = pl.DataFrame(
            schema={
                k: SITE_CALL_SCHEMA[k] for k in ("module", "rsid", "status", "reason", "gt", "genotype_key")
            }
        )

    merged = sites.join(best, on=["module", "rsid"], how="left")
    covered = _covered(merged.filter(pl.col("status").is_null()), ref_intervals) if use_coordinates else None
    has_position = pl.col("start").is_not_null()
    absent_reason = (
        pl.when(has_position & pl.lit(use_coordinates))
        .then(pl.lit("absent"))
        .when(pl.lit(match_rsids))
        .then(pl.lit("rsid_absent"))
        .when(has_position)
        .then(pl.lit("genome_build_mismatch"))
        .otherwise(pl.lit("no_coordinates_and_no_rsids"))
    )
    flags = (covered if covered is not None else merged.select("module", "rsid").clear()).with_columns(
        pl.lit(True).alias("_covered")
    )
    merged = merged.join(flags, on=["module", "rsid"], how="left").with_columns(
        pl.col("_covered").fill_null(False)
    )
    inferred = pl.col("status").is_null() & pl.col("_covered")
    return merged.select(
        "module",
        "rsid",
        "chrom",
        "start",
        "ref",
        pl.when(inferred)
        .then(pl.lit("inferred_hom_ref"))
        .otherwise(pl.col("status").fill_null("not_testable"))
        .alias("status"),
        pl.when(inferred)
        .then(pl.lit(None, dtype=pl.String))
        .when(pl.col("status").is_null())
        .then(absent_reason)
        .otherwise(pl.col("reason"))
        .alias("reason"),
        pl.when(inferred).then(pl.lit("0/0*")).otherwise(pl.col("gt")).alias("gt"),
        pl.when(inferred)
        .then(pl.concat_str([pl.col("ref"), pl.lit("/"), pl.col("ref")]))
        .otherwise(pl.col("genotype_key"))
        .alias("genotype_key"),
    ).cast(SITE_CALL_SCHEMA)  # type: ignore[arg-type]


def _covered(absent: pl.DataFrame, intervals: pl.DataFrame) -> pl.DataFrame:
    """The absent sites that fall inside a reference-proving interval."""
    candidates = absent.filter(pl.col("start").is_not_null() & pl.col("ref").is_not_null())
    if candidates.is_empty() or intervals.is_empty():
        return candidates.select("module", "rsid").clear()
    # Intervals are merged (disjoint), so the nearest start at or before a position is the only candidate.
    nearest = candidates.sort("chrom", "start").join_asof(
        intervals.sort("chrom", "first"),
        left_on="start",
        right_on="first",
        by="chrom",
        strategy="backward",
        check_sortedness=False,
    )
    return nearest.filter(pl.col("last").is_not_null() & (pl.col("start") <= pl.col("last"))).select(
        "module", "rsid"
    )


def match_weights(weights: pl.DataFrame, calls: pl.DataFrame) -> pl.DataFrame:
    """The weights rows whose genotype equals the site's called or inferred genotype."""
    usable = calls.filter(pl.col("status").is_in(USABLE)).select(
        "module",
        "rsid",
        "genotype_key",
        "gt",
        pl.col("status").alias("evidence"),
        pl.col("chrom").alias("_chrom"),
        pl.col("start").alias("_start"),
        pl.col("ref").alias("_ref"),
    )
    return weights.join(usable, on=["module", "rsid", "genotype_key"], how="inner").with_columns(
        pl.coalesce("chrom", "_chrom").alias("chrom"),
        pl.coalesce("start", "_start").alias("start"),
        pl.coalesce("ref", "_ref").alias("ref"),
        pl.when(pl.col("evidence") == "inferred_hom_ref")
        .then(pl.lit("inferred_hom_ref"))
        .otherwise(pl.lit("call"))
        .alias("evidence"),
    )

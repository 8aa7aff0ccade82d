"""Where to look for the modules' GRCh38 sites in a sample: the same place, a lifted GRCh37 place, or nowhere (why)."""

from __future__ import annotations

import polars as pl

from just_dna_pipelines.liftover.chain import Chain

MODULES_BUILD = "GRCh38"
# Why a site with a GRCh38 position has no position to look for in the sample (ledger reason codes).
NO_UNIQUE_POSITION = "no_unique_grch37_position"
REVERSE_STRAND = "lift_reverse_strand"
NO_CHAIN = "no_liftover_chain"
BUILD_UNKNOWN = "build_unknown"

LIFT_SCHEMA = {
    "chrom": pl.String(),
    "start": pl.Int64(),
    "lifted_chrom": pl.String(),
    "lifted_start": pl.Int64(),
    "lift_note": pl.String(),
}


def _chain_name(chrom: str) -> str:
    return "chrM" if chrom == "MT" else f"chr{chrom}"


def lift_one(chain: Chain, chrom: str, start: int) -> tuple[int | None, str | None]:
    """The GRCh37 position of a GRCh38 position (1-based), or None with the reason code."""
    if chrom == "MT":
        # hg19's chrM is not the rCRS that b37 and GRCh38 use: no single GRCh37 mitochondrial position.
        return None, NO_UNIQUE_POSITION
    hits = chain.lifter.query(_chain_name(chrom), start)
    if len(hits) != 1 or hits[0][0] != _chain_name(chrom):
        return None, NO_UNIQUE_POSITION
    if hits[0][2] != "+":
        # On the reverse strand the alleles would have to be complemented; we do not match such sites by position.
        return None, REVERSE_STRAND
    return int(hits[0][1]), None


def lift_positions(positions: pl.DataFrame, chain: Chain) -> pl.DataFrame:
    """Lift distinct GRCh38 (chrom, start) pairs to GRCh37: lifted_chrom/lifted_start, or lift_note saying why not."""
    rows = []
    for chrom, start in positions.select("chrom", "start").drop_nulls().unique().iter_rows():
        lifted, note = lift_one(chain, chrom, start)
        rows.append((chrom, start, chrom if lifted is not None else None, lifted, note))
    return pl.DataFrame(rows, schema=LIFT_SCHEMA, orient="row")


def placed_sites(sites: pl.DataFrame, build: str, chain: Chain | None) -> pl.DataFrame:
    """Add match_chrom/match_start (where to look in a sample on `build`) and position_note (why nowhere).

    `sites` carry GRCh38 chrom/start (null for rsid-only sites, which get neither a place nor a note).
    """
    has_position = pl.col("start").is_not_null()
    if build == MODULES_BUILD:
        return sites.with_columns(
            pl.col("chrom").alias("match_chrom"),
            pl.col("start").alias("match_start"),
            pl.lit(None, dtype=pl.String).alias("position_note"),
        )
    if build == "GRCh37" and chain is not None:
        lifted = lift_positions(sites, chain)
        return sites.join(lifted, on=["chrom", "start"], how="left", nulls_equal=False).select(
            *sites.columns,
            pl.col("lifted_chrom").alias("match_chrom"),
            pl.col("lifted_start").alias("match_start"),
            pl.col("lift_note").alias("position_note"),
        )
    note = NO_CHAIN if build == "GRCh37" else BUILD_UNKNOWN
    return sites.with_columns(
        pl.lit(None, dtype=pl.String).alias("match_chrom"),
        pl.lit(None, dtype=pl.Int64).alias("match_start"),
        pl.when(has_position)
        .then(pl.lit(note))
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias("position_note"),
    )

"""rsID fill: records the VCF names no rsID for get the reference's, so module rows known only by rsID can match.

The fill table is keyed by the record itself (chrom, start, ref, its ALTs), so it applies to any normalized
table of the same VCF, whether every record was read or only the module sites.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from just_dna_pipelines.ensembl.columns import ENSEMBL_ID, SYMBOLIC_ALTS
from just_dna_pipelines.io.atomic import atomic_path

RSID_PATTERN = r"(rs[0-9]+)"
FILL_KEY = ("chrom", "start", "ref", "alts_key")
FILLED_FLAG = "rsid_filled"


def alts_key(alts: pl.Expr) -> pl.Expr:
    """A record's ALT alleles as one string (gVCF symbolic alleles left out), the fill's record key."""
    return alts.list.eval(pl.element().filter(~pl.element().is_in(SYMBOLIC_ALTS))).list.join(",")


def write_rsid_fill(annotated: Path, output: Path) -> int:
    """Write (chrom, start, ref, alts_key, rsid) for records without an rsID whose alleles the reference names.

    The rsID of a record's first ALT that has one wins. Returns the number of records filled.
    """
    fill = (
        pl.scan_parquet(annotated)
        .filter(pl.col("rsid").is_null())
        .group_by("record", maintain_order=True)
        .agg(
            pl.col("chrom").first(),
            pl.col("start").first(),
            pl.col("ref").first(),
            pl.col("alt").sort_by("alt_index").drop_nulls().str.join(",").alias("alts_key"),
            pl.col(ENSEMBL_ID)
            .sort_by("alt_index")
            .str.extract(RSID_PATTERN, 1)
            .drop_nulls()
            .first()
            .alias("rsid"),
        )
        .filter(pl.col("rsid").is_not_null())
        .select(*FILL_KEY, "rsid")
        .unique(subset=list(FILL_KEY), keep="first", maintain_order=True)
    )
    with atomic_path(output) as tmp:
        fill.sink_parquet(tmp)
    return int(pl.scan_parquet(output).select(pl.len()).collect().item())


@dataclass(frozen=True)
class FillResult:
    """A normalized table with rsIDs filled in, and how many records got one."""

    calls_path: Path
    filled_records: int
    filled_rsids: frozenset[str]


def apply_rsid_fill(calls_path: Path, fill_path: Path, output: Path) -> FillResult:
    """Write `output`: the normalized calls with `rsid` filled from the fill table and a `rsid_filled` flag."""
    fill = pl.scan_parquet(fill_path).rename({"rsid": "_fill_rsid"})
    filled = (
        pl.scan_parquet(calls_path)
        .with_columns(alts_key(pl.col("alts")).alias("alts_key"))
        .join(fill, on=list(FILL_KEY), how="left", maintain_order="left")
        .with_columns((pl.col("rsid").is_null() & pl.col("_fill_rsid").is_not_null()).alias(FILLED_FLAG))
        .with_columns(pl.coalesce("rsid", "_fill_rsid").alias("rsid"))
        .drop("alts_key", "_fill_rsid")
    )
    with atomic_path(output) as tmp:
        filled.sink_parquet(tmp)
    rsids = pl.scan_parquet(output).filter(pl.col(FILLED_FLAG)).select("rsid").collect()["rsid"]
    return FillResult(output, rsids.len(), frozenset(rsids.to_list()))


def positions_of_rsids(fill_path: Path, rsids: Iterable[str]) -> pl.DataFrame:
    """(chrom, start) of the fill's records carrying one of `rsids`: where rsID-only module sites lie."""
    wanted = pl.Series(sorted(set(rsids)), dtype=pl.String)
    return (
        pl.scan_parquet(fill_path)
        .filter(pl.col("rsid").is_in(wanted.implode()))
        .select("chrom", "start")
        .unique()
        .collect()
    )


def rsid_only_sites(module_dir: Path) -> set[str]:
    """The rsIDs a module knows without a position (its rows can match only by rsID)."""
    from just_dna_pipelines.annotation.sites import load_weights, module_sites

    sites = module_sites(load_weights(module_dir / "weights.parquet", module_dir.name))
    return set(sites.filter(pl.col("start").is_null())["rsid"].drop_nulls().to_list())


def matches_via_filled_rsids(matched: pl.DataFrame, rsid_only_sites: set[str], filled: frozenset[str]) -> int:
    """Matched module rows that were found only because their rsID was filled from the reference."""
    usable = rsid_only_sites & filled
    if not usable or matched.is_empty():
        return 0
    return int(matched["rsid"].is_in(pl.Series(sorted(usable)).implode()).sum())

"""Module weights as the matcher needs them, and the distinct sites (variants) a module asks about."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from just_dna_pipelines.modules.layouts import read_weights
from just_dna_pipelines.modules.schema import WEIGHTS_SCHEMA

SITE_COLUMNS = ["module", "rsid", "chrom", "start", "ref"]
SITE_CALL_SCHEMA: dict[str, pl.DataType] = {
    "module": pl.String(),
    "rsid": pl.String(),
    "chrom": pl.String(),
    "start": pl.Int64(),
    "ref": pl.String(),
    "status": pl.String(),  # called | no_call | inferred_hom_ref | not_testable
    "reason": pl.String(),  # why not called: no_call, filtered, absent, ref_mismatch, ...
    "gt": pl.String(),
    "genotype_key": pl.String(),  # sorted alleles joined by "/", e.g. "A/G"
}
STATUSES = ("called", "no_call", "inferred_hom_ref", "not_testable")


def load_weights(path: Path, module: str) -> pl.DataFrame:
    """Read a module's weights.parquet into the matcher's shape (missing optional columns become null)."""
    raw = read_weights(path)  # any known layout, in the contract's names and shapes
    columns = []
    for name, dtype in WEIGHTS_SCHEMA.items():
        if name in raw.columns:
            columns.append(pl.col(name).cast(dtype, strict=False))
        else:
            columns.append(pl.lit(None, dtype=dtype).alias(name))
    bare = pl.col("chrom").str.replace(r"^(?i:chr)", "")
    return (
        raw.select(columns)
        .with_columns(
            pl.lit(module).alias("module"),
            pl.when(bare.is_in(["M", "m"])).then(pl.lit("MT")).otherwise(bare).alias("chrom"),
            pl.col("genotype").list.sort().alias("genotype"),
        )
        .with_columns(pl.col("genotype").list.join("/").alias("genotype_key"))
    )


def module_sites(weights: pl.DataFrame) -> pl.DataFrame:
    """One row per distinct variant of a module: its rsid with the position and ref it is matched at."""
    return (
        weights.group_by("module", "rsid", maintain_order=True)
        .agg(
            pl.col("chrom").drop_nulls().first(),
            pl.col("start").drop_nulls().first(),
            pl.col("ref").drop_nulls().first(),
        )
        .select(SITE_COLUMNS)
    )


def module_positions(module_dirs: list[Path]) -> pl.DataFrame:
    """Every (chrom, start) any of the modules asks about; start is null for rsid-only sites."""
    frames = [
        load_weights(folder / "weights.parquet", folder.name).select("chrom", "start")
        for folder in module_dirs
    ]
    if not frames:
        return pl.DataFrame(schema={"chrom": pl.String(), "start": pl.Int64()})
    return pl.concat(frames).unique()

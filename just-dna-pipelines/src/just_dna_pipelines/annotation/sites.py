"""Module weights as the matcher needs them, and the distinct sites (variants) a module asks about."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from just_dna_pipelines.modules.layouts import read_weights
from just_dna_pipelines.modules.schema import SAMPLE_POSITION_SCHEMA, WEIGHTS_SCHEMA

SITE_COLUMNS = ["module", "rsid", "chrom", "start", "ref", "alleles"]
SITE_CALL_SCHEMA: dict[str, pl.DataType] = {
    "module": pl.String(),
    "rsid": pl.String(),
    "chrom": pl.String(),
    "start": pl.Int64(),
    "ref": pl.String(),
    "status": pl.String(),  # called | no_call | inferred_hom_ref | not_testable
    "reason": pl.String(),  # why not called: no_call, filtered, absent, ref_mismatch, ... (report/categories.py)
    "gt": pl.String(),
    "genotype_key": pl.String(),  # sorted alleles joined by "/", e.g. "A/G"
    **SAMPLE_POSITION_SCHEMA,
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
    """One row per distinct variant of a module: its rsid, GRCh38 position and ref, and its known alleles.

    `alleles` (for calls that carry no REF, like DNA-test arrays) is ref + alts + every genotype allele when the
    module knows the ref; else the genotype alleles when they name at least two; else null (nothing to check).
    """
    grouped = weights.group_by("module", "rsid", maintain_order=True).agg(
        pl.col("chrom").drop_nulls().first(),
        pl.col("start").drop_nulls().first(),
        pl.col("ref").drop_nulls().first(),
        pl.col("alts").list.explode(keep_nulls=False, empty_as_null=False).drop_nulls().alias("_alts"),
        pl.col("genotype")
        .list.explode(keep_nulls=False, empty_as_null=False)
        .drop_nulls()
        .unique()
        .sort()
        .alias("_named"),
    )
    with_ref = pl.concat_list([pl.col("ref"), pl.col("_alts"), pl.col("_named")]).list.unique().list.sort()
    alleles = (
        pl.when(pl.col("ref").is_not_null())
        .then(with_ref)
        .when(pl.col("_named").list.len() >= 2)
        .then(pl.col("_named"))
        .otherwise(pl.lit(None, dtype=pl.List(pl.String)))
    )
    return grouped.with_columns(alleles.alias("alleles")).select(SITE_COLUMNS)


def module_positions(module_dirs: list[Path]) -> pl.DataFrame:
    """Every (chrom, start) any of the modules asks about; start is null for rsid-only sites."""
    frames = [
        load_weights(folder / "weights.parquet", folder.name).select("chrom", "start")
        for folder in module_dirs
    ]
    if not frames:
        return pl.DataFrame(schema={"chrom": pl.String(), "start": pl.Int64()})
    return pl.concat(frames).unique()


def module_site_table(module_dirs: list[Path]) -> pl.DataFrame:
    """The distinct sites of all the modules (rsid, GRCh38 chrom/start, ref), e.g. to tell a file's build."""
    frames = [module_sites(load_weights(folder / "weights.parquet", folder.name)) for folder in module_dirs]
    if not frames:
        return pl.DataFrame(
            schema={"rsid": pl.String(), "chrom": pl.String(), "start": pl.Int64(), "ref": pl.String()}
        )
    return pl.concat(frames).select("rsid", "chrom", "start", "ref").unique().sort("rsid", "chrom", "start")

"""Regions that prove reference coverage: a confident-regions BED, and gVCF reference blocks."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from just_dna_pipelines.errors import PipelineError, VcfError
from just_dna_pipelines.io.vcf_limits import ReadLimits

# A gVCF block's genotype quality from which it proves hom-ref: 20, the usual line for a confident call (a 1 in
# 100 chance the genotype is wrong).
MIN_BLOCK_GQ = 20
# Contigs a person may carry one copy of, where a haploid reference block is a reference genotype (the matchers
# read a one-allele call there as that allele twice, as the modules spell it).
ONE_COPY_CONTIGS = ("X", "Y", "MT")
# Intervals are 1-based, closed: first..last.
INTERVAL_SCHEMA = {"chrom": pl.String(), "first": pl.Int64(), "last": pl.Int64()}
# A BED of confident regions is tens of megabytes with short lines (a whole genome's: ~30 MB).
BED_LIMITS = ReadLimits(max_decompressed_bytes=4 << 30, max_line_bytes=1 << 20)


def _normalized_chrom(column: str) -> pl.Expr:
    bare = pl.col(column).str.replace(r"^(?i:chr)", "")
    return pl.when(bare.is_in(["M", "m"])).then(pl.lit("MT")).otherwise(bare)


def read_bed_intervals(path: Path) -> pl.DataFrame:
    """Read a BED (plain or gzipped; 0-based half-open) as 1-based closed intervals."""
    if not path.is_file():
        raise PipelineError(f"confident-regions file not found: {path}")
    from just_dna_pipelines.io.vcf_stream import check_text_bounds

    try:  # read within bounds first: a 300 KB gzip of one 300 MB line took 1.6 GB to be refused
        check_text_bounds(path, BED_LIMITS)
    except VcfError:
        raise PipelineError(
            f"{path.name} is refused as a BED file: damaged, a line longer than {BED_LIMITS.describe_line()} "
            f"or more than {BED_LIMITS.describe_size()} once decompressed"
        ) from None
    try:
        raw = pl.read_csv(
            path,
            separator="\t",
            has_header=False,
            comment_prefix="#",
            infer_schema=False,
            quote_char=None,
            truncate_ragged_lines=True,
            glob=False,  # the file's own name: "conf[1].bed" read none, "conf*.bed" every conf...bed beside it
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise PipelineError(f"{path.name} is not a readable BED file ({str(exc).splitlines()[0]})") from None
    if raw.width < 3:
        raise PipelineError(f"{path.name} is not a BED file (fewer than 3 columns)")
    first_cols = raw.columns[:3]
    frame = raw.select(
        _normalized_chrom(first_cols[0]).alias("chrom"),
        (pl.col(first_cols[1]).cast(pl.Int64, strict=False) + 1).alias("first"),
        pl.col(first_cols[2]).cast(pl.Int64, strict=False).alias("last"),
    ).filter(~pl.col("chrom").is_in(["track", "browser"]))
    if frame["first"].is_null().any() or frame["last"].is_null().any():
        raise PipelineError(f"{path.name} is not a BED file (non-numeric start/end)")
    return merge_intervals(frame)


def merge_intervals(intervals: pl.DataFrame) -> pl.DataFrame:
    """Merge overlapping or touching intervals per chromosome, so each position falls in at most one."""
    if intervals.is_empty():
        return pl.DataFrame(schema=INTERVAL_SCHEMA)
    ordered = intervals.select(INTERVAL_SCHEMA.keys()).sort("chrom", "first")
    reach = pl.col("last").cum_max().shift(1).over("chrom")
    return (
        ordered.with_columns(((reach.is_null()) | (pl.col("first") > reach + 1)).cum_sum().alias("_group"))
        .group_by("chrom", "_group")
        .agg(pl.col("first").min(), pl.col("last").max())
        .drop("_group")
        .sort("chrom", "first")
    )


def gvcf_reference_blocks(calls: pl.LazyFrame) -> pl.DataFrame:
    """The hom-ref blocks of a normalized gVCF that prove the reference genotype, as intervals.

    A haploid block (`0`: a man's X and Y written with one copy, the mitochondrion) proves it on those contigs
    alone; elsewhere one copy means the other was lost (a deletion), and the module's genotype cannot be told.
    A block proves it only when confident: GQ (GQX where a caller states only that) at least MIN_BLOCK_GQ and
    some reads (its depth, MIN_DP where written, above 0). Callers write zero-coverage stretches as 0/0 blocks
    too (DeepVariant `0/0:1:0`, GATK `0/0:0:0`): taken as proof, they told a person "normal" where nothing was
    read. A block without GQ, GQX or depth (a caller that writes none) is taken as its caller states it.
    """
    gq, depth = pl.col("gq"), pl.col("dp")
    confident = (gq.is_null() | (gq >= MIN_BLOCK_GQ)) & (depth.is_null() | (depth > 0))
    one_reference_copy = (
        (pl.col("zygosity") == "hemizygous")
        & pl.col("chrom").is_in(list(ONE_COPY_CONTIGS))
        & (pl.col("genotype").list.first() == pl.col("ref"))
    )
    reference = (pl.col("zygosity") == "hom_ref") | one_reference_copy
    return merge_intervals(
        calls.filter(pl.col("ref_block") & reference & pl.col("passes_filters") & confident)
        .select("chrom", pl.col("start").alias("first"), pl.col("end").alias("last"))
        .collect()
    )

"""Annotate a sample's variants with the Ensembl reference in Polars, one contig at a time, streamed to one file.

Per contig (each reference file holds one): the sample's records on it are split into alleles; the reference is
read in two passes, first its keys alone at the sample's positions (a filter pushed into the file's scan), then
the other columns only for the rows whose key is a sample allele; duplicates of a key are resolved (an rsID
first, the lowest rs number, then the smallest `id`) and every allele gets its row, or nulls. Joins run on narrow, position-sorted
frames (Polars merges sorted keys; hashing random keys was ~10x slower here). The parts are streamed into one
Parquet file, so memory follows the largest contig, not the sample or the reference (bench/RESULTS.md).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import polars as pl
from polars.io.plugins import register_io_source

from just_dna_pipelines.ensembl.columns import (
    ENSEMBL_ID,
    RS_NUMBER,
    RSID_ONLY,
    SYMBOLIC_ALTS,
    ColumnPlan,
    parquet_columns,
    plan_columns,
    reference_columns,
)
from just_dna_pipelines.io.atomic import atomic_path

ROW = "_row"  # a reference row's number in its file
RECORD = "_record"  # a record's row among its contig's records
ALLELE = "_allele"  # an allele's row among its contig's alleles
# zstd level 1: on the benchmark ~15 % less CPU than the default level; lz4 saves ~15 % more but writes a
# ~55 % larger file (bench/RESULTS.md).
OUTPUT_ZSTD_LEVEL = 1
CONTIGS_IN_FLIGHT = 2


def contig_blocks(calls_path: Path) -> dict[str, list[tuple[int, int]]]:
    """Each contig's runs of consecutive records, (offset, length), from the `chrom` column alone."""
    runs = (
        pl.scan_parquet(calls_path)
        .select(pl.col("chrom").rle())
        .unnest("chrom")
        .with_columns((pl.col("len").cum_sum() - pl.col("len")).alias("offset"))
        .collect()
    )
    blocks: dict[str, list[tuple[int, int]]] = {}
    for length, chrom, offset in runs.select("len", "value", "offset").iter_rows():
        blocks.setdefault(chrom, []).append((int(offset), int(length)))
    return blocks


def contig_calls(calls_path: Path, chrom: str, blocks: list[tuple[int, int]]) -> pl.LazyFrame:
    """One contig's records with their 0-based row number as `record`: a slice when they are one run."""
    calls = pl.scan_parquet(calls_path, row_index_name="record")
    if len(blocks) == 1:
        offset, length = blocks[0]
        return calls.slice(offset, length)
    return calls.filter(pl.col("chrom") == chrom)


def split_alleles(calls: pl.DataFrame) -> pl.DataFrame:
    """One contig's records -> one narrow row per ALT allele, sorted by position, ref blocks and symbolic ALTs dropped.

    Columns: `_record` (the record's row in `calls`), start, ref, `alt` (null where a record has none) and
    `alt_index` (1-based). Sorted by `start` (already so for a VCF's records) so the joins can merge.
    """
    alleles = (
        calls.select(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias(RECORD),
            "start",
            "ref",
            pl.col("alts").alias("alt"),
            pl.int_ranges(1, pl.col("alts").list.len() + 1, dtype=pl.Int32).alias("alt_index"),
            "ref_block",
        )
        .filter(~pl.col("ref_block"))
        .drop("ref_block")
        .explode("alt", "alt_index", empty_as_null=True)
        .filter(pl.col("alt").is_null() | ~pl.col("alt").is_in(SYMBOLIC_ALTS))
    )
    if not alleles["start"].is_sorted():
        alleles = alleles.sort("start", maintain_order=True)
    return alleles.with_columns(pl.col("start").set_sorted())


def reference_keys(path: Path, positions: pl.Series) -> pl.DataFrame:
    """The keys (`_row`, start, ref, alt) of the file's rows at `positions`, one row per ALT, sorted by position.

    Only the three key columns are read, and only rows at a wanted position are kept (the filter runs in the
    scan); a row listing several ALTs ("T,G") becomes one row per ALT.
    """
    keys = (
        pl.scan_parquet(path, row_index_name=ROW)
        .select(
            ROW, pl.col("start").cast(pl.Int64), pl.col("ref").cast(pl.String), pl.col("alt").cast(pl.String)
        )
        .filter(pl.col("start").is_in(positions.implode()))
        .collect()
    )
    if keys["alt"].str.contains(",", literal=True).any():
        keys = keys.with_columns(pl.col("alt").str.split(",")).explode("alt")
    if not keys["start"].is_sorted():
        keys = keys.sort("start", maintain_order=True)
    return keys.with_columns(pl.col("start").set_sorted())


def reference_schema(files: dict[str, Path], plan: ColumnPlan) -> dict[str, pl.DataType]:
    """The carried reference columns' types in the output: each column's supertype across the files."""
    frames = [
        pl.DataFrame(schema=dict(pl.scan_parquet(path).collect_schema())).select(
            pl.col(name).alias(plan.reference[name])
            for name in parquet_columns(path)
            if name in plan.reference
        )
        for path in files.values()
    ]
    schema = dict(pl.concat(frames, how="diagonal_relaxed").schema) if frames else {}
    return {new: schema.get(new, pl.String()) for new in plan.reference.values()}


def reference_rows(
    path: Path, rows: pl.Series, plan: ColumnPlan, schema: dict[str, pl.DataType]
) -> pl.DataFrame:
    """The carried columns (output names and types) of the file's `rows`, in file order, with `_row`."""
    present = set(parquet_columns(path))
    return (
        pl.scan_parquet(path, row_index_name=ROW)
        .filter(pl.col(ROW).is_in(rows.implode()))
        .select(
            ROW,
            *(
                (pl.col(old) if old in present else pl.lit(None)).cast(schema[new]).alias(new)
                for old, new in plan.reference.items()
            ),
        )
        .collect()
    )


def first_per_allele(pairs: pl.DataFrame) -> pl.DataFrame:
    """One reference row per allele (Ensembl lists some alleles twice): an rsID before other ids, the lowest rs
    number first (rs94 before rs104), then the smallest other id."""
    alleles = pairs[ALLELE]
    if alleles.is_sorted():  # as the merge join leaves them: repeats are neighbours, found in one pass
        alleles = alleles.set_sorted()
    if alleles.n_unique() == pairs.height:  # the usual case: nothing to resolve
        return pairs
    repeated = alleles.is_duplicated()
    not_rsid = ~pl.col(ENSEMBL_ID).fill_null("").str.contains(RSID_ONLY)
    rs_number = pl.col(ENSEMBL_ID).str.extract(RS_NUMBER, 1).cast(pl.Int64, strict=False)
    resolved = (
        pairs.filter(repeated)
        .with_columns(not_rsid.alias("_not_rsid"), rs_number.alias("_rs_number"))
        .sort(ALLELE, "_not_rsid", "_rs_number", ENSEMBL_ID, nulls_last=True)
        .unique(subset=[ALLELE], keep="first", maintain_order=True)
        .drop("_not_rsid", "_rs_number")
    )
    return pl.concat([pairs.filter(~repeated), resolved])


def annotate_contig(
    calls: pl.DataFrame, path: Path | None, plan: ColumnPlan, schema: dict[str, pl.DataType]
) -> pl.DataFrame:
    """One contig's records annotated from its reference file (none: every allele unannotated).

    Joins run on narrow frames only: alleles to reference keys by a merge on the sorted position, then the
    wide columns are gathered once, the sample's by record and the reference's by matched row.
    """
    calls = calls.rechunk()  # gathers from one chunk are several times faster (list columns above all)
    alleles = split_alleles(calls).with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias(ALLELE))
    carried = pl.DataFrame(schema=schema)
    picks = pl.repeat(None, alleles.height, dtype=pl.UInt32, eager=True)  # each allele's row in `carried`
    if path is not None:
        wanted = alleles.filter(pl.col("alt").is_not_null()).select(ALLELE, "start", "ref", "alt")
        keys = reference_keys(path, wanted["start"].unique())
        pairs = (
            wanted.join(keys, on="start", how="inner", suffix="_ref")
            .filter((pl.col("ref") == pl.col("ref_ref")) & (pl.col("alt") == pl.col("alt_ref")))
            .select(ALLELE, ROW)
        )
        rows = reference_rows(path, pairs[ROW].unique().sort(), plan, schema)
        # `rows` is in file order: a matched row's place in it is found by binary search.
        pairs = pairs.with_columns(rows[ROW].search_sorted(pairs[ROW]).cast(pl.UInt32).alias("_at"))
        pairs = first_per_allele(pairs.with_columns(rows[ENSEMBL_ID].gather(pairs["_at"])))
        carried = rows.drop(ROW)
        picks = picks.scatter(pairs[ALLELE], pairs["_at"])
    sample = calls.select(*plan.sample, pl.col("chrom"), pl.col("rsid"), pl.col("record").cast(pl.Int64))
    return pl.concat(
        [
            sample.select(pl.all().gather(alleles[RECORD])),
            alleles.select("start", "ref", "alt", "alt_index"),
            carried.select(pl.all().gather(picks)) if carried.height else carried.clear(alleles.height),
        ],
        how="horizontal",
    ).select(plan.output)


def annotate_polars(calls_path: Path, files: dict[str, Path], output: Path) -> int:
    """Write `output` (Parquet, atomically): the sample's alleles with the reference's columns; return its rows."""
    plan = plan_columns(parquet_columns(calls_path), reference_columns(files.values()))
    schema = reference_schema(files, plan)
    no_calls = pl.scan_parquet(calls_path, row_index_name="record").head(0).collect()
    output_schema = annotate_contig(no_calls, None, plan, schema).schema

    def annotate(chrom: str, blocks: list[tuple[int, int]]) -> pl.DataFrame:
        calls = contig_calls(calls_path, chrom, blocks).collect()
        return annotate_contig(calls, files.get(chrom), plan, schema)

    def parts(*_args: object) -> Iterator[pl.DataFrame]:
        # Two contigs in flight: much of each step runs on one core, and memory stays within two contigs.
        with ThreadPoolExecutor(max_workers=CONTIGS_IN_FLIGHT) as pool:
            pending: deque[Future[pl.DataFrame]] = deque()
            for chrom, blocks in contig_blocks(calls_path).items():
                pending.append(pool.submit(annotate, chrom, blocks))
                if len(pending) >= CONTIGS_IN_FLIGHT:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    # Rows come out contig by contig in the sample's contig order, by position within one (record order for a
    # sorted VCF); `record` and `alt_index` give the VCF's order, and the VCF writer sorts by them.
    with atomic_path(output) as tmp:
        register_io_source(parts, schema=output_schema).sink_parquet(
            tmp, compression="zstd", compression_level=OUTPUT_ZSTD_LEVEL, statistics=True
        )
    return int(pl.scan_parquet(output).select(pl.len()).collect().item())

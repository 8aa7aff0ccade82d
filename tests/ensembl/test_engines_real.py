"""Both engines on a real genome (Platinum Genomes NA12878 chr21) against a reference built from real data."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from just_dna_pipelines.ensembl.cache import ensure_reference
from just_dna_pipelines.ensembl.engine_duckdb import annotate_duckdb, machine_limits
from just_dna_pipelines.ensembl.engine_polars import annotate_polars

pytestmark = pytest.mark.fixtures


@pytest.fixture(scope="module")
def both_engines(
    na12878_calls: Path, real_reference: Path, tmp_path_factory
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The chr21 reference joined to NA12878 by each engine."""
    out = tmp_path_factory.mktemp("engines")
    files = {"21": real_reference / "data" / "homo_sapiens-chr21.parquet"}
    annotate_polars(na12878_calls, files, out / "polars.parquet")
    annotate_duckdb(na12878_calls, files, out / "duckdb.parquet", machine_limits(out / "spill"))
    order = ["record", "alt_index"]  # the engines promise the same rows, not the same order
    return pl.read_parquet(out / "polars.parquet").sort(order), pl.read_parquet(out / "duckdb.parquet").sort(
        order
    )


def test_engines_give_the_same_rows(both_engines: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    polars_rows, duckdb_rows = both_engines
    assert polars_rows.columns == duckdb_rows.columns
    assert polars_rows.schema == duckdb_rows.schema
    assert polars_rows.equals(duckdb_rows)


def test_one_row_per_sample_allele(na12878_calls: Path, both_engines) -> None:
    annotated, _ = both_engines
    calls = pl.read_parquet(na12878_calls)
    expected = int(calls.select(pl.col("alts").list.len().clip(lower_bound=1).sum()).item())
    assert annotated.height == expected == 64_718 + 2 * 626 + 3 * 24 + 4 * 2  # records with 1, 2, 3, 4 ALTs
    assert annotated.select("record", "alt_index").is_unique().all()
    assert annotated["record"].n_unique() == calls.height


def test_known_sites_carry_the_reference_columns(both_engines, real_reference: Path) -> None:
    annotated, _ = both_engines
    site = annotated.filter((pl.col("start") == 14_945_905) & (pl.col("alt") == "A")).row(0, named=True)
    assert site["chrom"] == "21" and site["ref"] == "G" and site["rsid"] is None
    assert site["ensembl_id"] == "rs2253363" and site["gt"] == "1|1"
    assert site["TSA"] == "SNV" and site["dbSNP_154"] is True and site["MAF"] > 0
    # The export lists G>A,C,T in one row: it was split to match the sample's A, its own `alts` carried.
    assert site["ensembl_alts"] == ["A", "C", "T"]
    with_id = annotated.filter(pl.col("ensembl_id").is_not_null())
    # Every match is on the full key: the reference row named has the sample allele's position, REF and ALT.
    reference = pl.read_parquet(real_reference / "data" / "homo_sapiens-chr21.parquet").with_columns(
        pl.col("alt").str.split(",")
    )
    keys = reference.explode("alt").select(pl.col("id").alias("ensembl_id"), "start", "ref", "alt")
    assert with_id.join(keys, on=["ensembl_id", "start", "ref", "alt"], how="anti").is_empty()
    # Background rows with another ALT match only where the sample has that ALT too (a few multi-allelic sites).
    assert with_id.filter(pl.col("ensembl_id").str.starts_with("bg_other")).height == 16
    assert with_id.filter(pl.col("ensembl_id").str.starts_with("bg_")).height > 10_000


def test_cached_local_reference_is_what_the_engines_read(real_reference: Path, pipeline_env) -> None:
    reference = ensure_reference(str(real_reference), ["chr21"])
    assert list(reference.files) == ["21"] and reference.rows() > 13_000


def test_records_out_of_order_and_interleaved_contigs(
    na12878_calls: Path, real_reference: Path, both_engines, tmp_path: Path
) -> None:
    """The Polars engine's per-contig path when records are not sorted and a contig comes in several runs
    (one without a reference file): the same rows as from the sorted file, and as DuckDB's one query."""
    from just_dna_pipelines.ensembl.source import local_contig_files

    calls = pl.read_parquet(na12878_calls)
    # `original` (the record's row in the sorted file) rides along as one more sample column.
    shuffled = calls.with_row_index("original").sample(fraction=1.0, shuffle=True, seed=3)
    # Every 50th record moved to chr22 and every 70th to a contig the reference lacks, scattered among chr21's.
    row = pl.int_range(pl.len())
    mixed = shuffled.with_columns(
        pl.when(row % 50 == 0)
        .then(pl.lit("22"))
        .when(row % 70 == 0)
        .then(pl.lit("GL000194.1"))
        .otherwise(pl.col("chrom"))
        .alias("chrom")
    )
    files = local_contig_files(real_reference)
    assert "22" in files and "21" in files
    for name, frame in (("shuffled", shuffled), ("mixed", mixed)):
        frame.write_parquet(tmp_path / f"{name}.parquet")
        annotate_polars(tmp_path / f"{name}.parquet", files, tmp_path / f"{name}_polars.parquet")
        annotate_duckdb(
            tmp_path / f"{name}.parquet",
            files,
            tmp_path / f"{name}_duckdb.parquet",
            machine_limits(tmp_path / "spill", threads=1),
        )
        got = pl.read_parquet(tmp_path / f"{name}_polars.parquet").sort("record", "alt_index")
        assert got.equals(pl.read_parquet(tmp_path / f"{name}_duckdb.parquet").sort("record", "alt_index"))
    sorted_rows, _ = both_engines
    shuffled_rows = pl.read_parquet(tmp_path / "shuffled_polars.parquet").sort("original", "alt_index")
    assert shuffled_rows.drop("original", "record").equals(sorted_rows.drop("record"))
    assert shuffled_rows["original"].cast(pl.Int64).equals(sorted_rows["record"], check_names=False)
    mixed_rows = pl.read_parquet(tmp_path / "mixed_polars.parquet")
    assert mixed_rows.filter(pl.col("chrom") == "GL000194.1")["ensembl_id"].null_count() == (
        mixed_rows.filter(pl.col("chrom") == "GL000194.1").height
    )
    assert mixed_rows.height == sorted_rows.height

"""Annotate a sample's variants with the Ensembl reference in DuckDB: views over the Parquet files, one COPY.

The same rules as the Polars engine (see `ensembl.columns`): the reference is cut to the sample's
positions, comma-separated ALTs are split, among duplicates of a key an rsID wins (the lowest
rs number, then the smallest other `id`), and every sample allele keeps exactly one row. Memory and threads are capped (a share of the machine by default) and DuckDB spills
to a temp folder under the cache instead of growing past its limit.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psutil

from just_dna_pipelines.ensembl.columns import (
    ENSEMBL_ID,
    LEAD_COLUMNS,
    ROW_COLUMNS,
    RS_NUMBER,
    RSID_ONLY,
    SYMBOLIC_ALTS,
    ColumnPlan,
    parquet_columns,
    plan_columns,
    reference_columns,
)
from just_dna_pipelines.ensembl.layout import KEY_COLUMNS
from just_dna_pipelines.io.atomic import atomic_path


@dataclass(frozen=True)
class DuckDbLimits:
    """What DuckDB may use: a memory limit (DuckDB syntax, e.g. "3GB"), threads, and where to spill."""

    memory_limit: str
    threads: int
    temp_directory: Path


def machine_limits(
    temp_directory: Path,
    memory_fraction: float = 0.75,
    threads_fraction: float = 0.75,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> DuckDbLimits:
    """Limits as a share of this machine's memory and cores (at least 1 thread); explicit values win."""
    if memory_limit is None:
        # In MiB, as counted: DuckDB reads "MB" as 10^6 bytes (75 % written as MB was 71.5 % of the memory).
        mebibytes = int(psutil.virtual_memory().total * memory_fraction / 1024 / 1024)
        memory_limit = f"{max(mebibytes, 256)}MiB"
    if threads is None:
        threads = max(1, int((os.cpu_count() or 1) * threads_fraction))
    return DuckDbLimits(memory_limit, threads, temp_directory)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def reference_view_sql(files: dict[str, Path], plan: ColumnPlan) -> str:
    """One SELECT per contig file (the contig from its name, absent columns as NULL), glued by UNION ALL BY NAME."""
    parts = []
    for contig, path in files.items():
        present = set(parquet_columns(path))
        carried = ", ".join(
            f"{_quote(old) if old in present else 'NULL'} AS {_quote(new)}"
            for old, new in plan.reference.items()
        )
        parts.append(
            f"SELECT {_literal(contig)} AS chrom, CAST(start AS BIGINT) AS start, CAST(ref AS VARCHAR) AS ref, "
            f"CAST(alt AS VARCHAR) AS alt, {carried} FROM read_parquet({_literal(str(path))})"
        )
    if not parts:  # none of the sample's contigs has a file: an empty reference, every allele unannotated
        carried = ", ".join(f"NULL::VARCHAR AS {_quote(new)}" for new in plan.reference.values())
        return f"SELECT NULL::VARCHAR AS chrom, NULL::BIGINT AS start, NULL::VARCHAR AS ref, NULL::VARCHAR AS alt, {carried} WHERE false"
    return "\nUNION ALL BY NAME\n".join(parts)


def annotate_sql(plan: ColumnPlan) -> str:
    """The query over the `calls` and `reference` views that yields the annotated rows (in no particular order)."""
    keys = ", ".join(KEY_COLUMNS)
    sample_cols = ", ".join(_quote(c) for c in plan.sample)
    symbolic = ", ".join(_literal(a) for a in SYMBOLIC_ALTS)
    ref_select = ", ".join(f"m.{_quote(new)}" for new in plan.reference.values())
    return f"""
WITH exploded AS (
    SELECT chrom, start, ref, rsid, {sample_cols + "," if sample_cols else ""}
        CAST(file_row_number AS BIGINT) AS record,
        unnest(CASE WHEN len(alts) = 0 THEN [NULL] ELSE alts END) AS alt,
        unnest(CASE WHEN len(alts) = 0 THEN [NULL] ELSE range(1, len(alts) + 1) END) AS alt_index
    FROM calls WHERE NOT ref_block
),
sample AS (
    SELECT * REPLACE (CAST(alt_index AS INTEGER) AS alt_index) FROM exploded
    WHERE alt IS NULL OR alt NOT IN ({symbolic})
),
positions AS (SELECT DISTINCT chrom, start FROM sample WHERE alt IS NOT NULL),
near AS (SELECT r.* FROM reference r SEMI JOIN positions p ON r.chrom = p.chrom AND r.start = p.start),
split AS (SELECT * REPLACE (unnest(string_split(alt, ',')) AS alt) FROM near),
matched AS (
    SELECT * FROM split
    QUALIFY row_number() OVER (
        PARTITION BY {keys}
        ORDER BY NOT regexp_full_match(coalesce({ENSEMBL_ID}, ''), {_literal(RSID_ONLY)}),
            TRY_CAST(regexp_extract({ENSEMBL_ID}, {_literal(RS_NUMBER)}, 1) AS BIGINT) NULLS LAST,
            {ENSEMBL_ID} NULLS LAST
    ) = 1
)
SELECT {", ".join(f"s.{_quote(c)}" for c in (*LEAD_COLUMNS, *plan.sample, *ROW_COLUMNS))}, {ref_select}
FROM sample s LEFT JOIN matched m
  ON s.chrom = m.chrom AND s.start = m.start AND s.ref = m.ref AND s.alt = m.alt
"""


def connect(limits: DuckDbLimits, spill: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB held to `limits`, spilling into `spill`."""
    con = duckdb.connect(
        config={
            "memory_limit": limits.memory_limit,
            "threads": limits.threads,
            "preserve_insertion_order": False,  # the output promises no order: lets the write run in parallel
        }
    )
    con.execute(f"SET temp_directory = {_literal(str(spill))}")
    return con


def annotate_duckdb(calls_path: Path, files: dict[str, Path], output: Path, limits: DuckDbLimits) -> int:
    """Write `output` (Parquet, atomically) with DuckDB under `limits`; return its rows."""
    plan = plan_columns(parquet_columns(calls_path), reference_columns(files.values()))
    limits.temp_directory.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="duckdb-", dir=limits.temp_directory) as spill,
        connect(limits, Path(spill)) as con,
    ):
        con.execute(
            f"CREATE VIEW calls AS SELECT * FROM read_parquet({_literal(str(calls_path))}, file_row_number = true)"
        )
        con.execute(f"CREATE VIEW reference AS {reference_view_sql(files, plan)}")
        with atomic_path(output) as tmp:
            con.execute(
                f"COPY ({annotate_sql(plan)}) TO {_literal(str(tmp))} (FORMAT PARQUET, COMPRESSION ZSTD, COMPRESSION_LEVEL 1)"
            )
        rows = con.execute(f"SELECT count(*) FROM read_parquet({_literal(str(output))})").fetchone()
    return int(rows[0]) if rows else 0

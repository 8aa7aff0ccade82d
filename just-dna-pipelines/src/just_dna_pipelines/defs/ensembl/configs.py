"""Run configuration of the Ensembl assets."""

from __future__ import annotations

import dagster as dg


class ReferenceConfig(dg.Config):
    """Which contigs to download: listed ones, all of them, or (default) those the samples need."""

    contigs: list[str] | None = None
    all_contigs: bool = False
    update: bool = True  # ask the hub for the newest revision (False: keep the revision cached last)


class EnsemblAnnotateConfig(dg.Config):
    """Resource limits of the DuckDB engine (fractions of the machine; explicit values win)."""

    memory_limit: str | None = None  # e.g. "2GB"; default: settings.duckdb_memory_fraction of RAM
    threads: int | None = None  # default: settings.duckdb_threads_fraction of the cores
    write_vcf: bool = True  # also write annotated.vcf.gz + .tbi

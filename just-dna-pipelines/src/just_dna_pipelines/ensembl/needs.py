"""Which reference contigs the samples need: the chromosomes their normalized calls are on."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from just_dna_pipelines.ensembl.layout import reference_contigs

NORMALIZED = Path("normalized") / "variants.parquet"


def sample_contigs(calls_path: Path) -> list[str]:
    """The reference contigs one sample's normalized calls are on (index facts included when present)."""
    names = set(pl.scan_parquet(calls_path).select(pl.col("chrom").unique()).collect()["chrom"].to_list())
    facts = calls_path.with_name("facts.json")
    if facts.is_file():
        names |= set(json.loads(facts.read_text()).get("chromosomes") or [])
    return reference_contigs(names)


def contigs_needed(output_dir: Path) -> list[str]:
    """The reference contigs any sample under `{output_dir}/users/*/*/` needs."""
    needed: set[str] = set()
    for calls in sorted((output_dir / "users").glob(f"*/*/{NORMALIZED}")):
        needed |= set(sample_contigs(calls))
    return reference_contigs(needed)

"""Annotate one sample with the Ensembl reference: the joined table, the rsID fill and the annotated VCF.

Writes into `out_dir` (a staging folder the caller publishes whole): `annotated.parquet`,
`rsid_fill.parquet`, and optionally `annotated.vcf.gz` + `.tbi`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from just_dna_pipelines.ensembl.columns import ENSEMBL_ID, parquet_columns, plan_columns, reference_columns
from just_dna_pipelines.ensembl.engines import DEFAULT_ENGINE, ENGINES
from just_dna_pipelines.ensembl.layout import GENOME_BUILD
from just_dna_pipelines.ensembl.rsid_fill import write_rsid_fill
from just_dna_pipelines.errors import EnsemblError

if TYPE_CHECKING:
    from just_dna_pipelines.ensembl.cache import EnsemblReference
    from just_dna_pipelines.ensembl.engine_duckdb import DuckDbLimits

ANNOTATED_FILE = "annotated.parquet"
FILL_FILE = "rsid_fill.parquet"
VCF_FILE = "annotated.vcf.gz"


@dataclass(frozen=True)
class VcfOptions:
    """What the annotated VCF takes from the input VCF: the sample's name and the contig names and lengths."""

    sample: str
    header_contigs: dict[str, int] = field(default_factory=dict)
    contig_naming: str = "chr"


def check_build(genome_build: str, *, unknown_yet: bool = False) -> None:
    """Refuse a sample not on GRCh38: the reference's positions are GRCh38, and a join by position on another
    build (or an unknown one) would name variants the person does not carry. `unknown_yet`: the header alone
    does not tell, the data may (the run checks the build it decided)."""
    if genome_build == GENOME_BUILD or (unknown_yet and genome_build == "unknown"):
        return
    if genome_build == "GRCh37":
        raise EnsemblError(
            f"the VCF is GRCh37 but the Ensembl reference is {GENOME_BUILD}: positions cannot be compared"
        )
    raise EnsemblError(
        f"the VCF's genome build is {genome_build} (neither its header nor its records tell), and the Ensembl "
        f"reference is {GENOME_BUILD}: positions cannot be compared; state the build in the header "
        "(##reference=GRCh38 or ##contig lines with lengths)"
    )


def annotate_with_ensembl(
    calls_path: Path,
    reference: EnsemblReference,
    out_dir: Path,
    *,
    engine: str = DEFAULT_ENGINE,
    duckdb_limits: DuckDbLimits | None = None,
    vcf: VcfOptions | None = None,
) -> dict[str, Any]:
    """Join the sample's alleles to the reference with `engine` and write the outputs; return their facts."""
    # The engines and the VCF writer (DuckDB, pysam) load here: importing this module (for current_fill, on
    # every module run) must stay light.
    from just_dna_pipelines.ensembl.engine_duckdb import annotate_duckdb
    from just_dna_pipelines.ensembl.engine_polars import annotate_polars
    from just_dna_pipelines.ensembl.vcf_writer import write_annotated_vcf

    if engine not in ENGINES:
        raise EnsemblError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    annotated = out_dir / ANNOTATED_FILE
    started = time.perf_counter()
    if engine == "polars":
        rows = annotate_polars(calls_path, reference.files, annotated)
    else:
        if duckdb_limits is None:
            raise EnsemblError("the DuckDB engine needs resource limits")
        rows = annotate_duckdb(calls_path, reference.files, annotated, duckdb_limits)
    join_seconds = time.perf_counter() - started
    counts = (
        pl.scan_parquet(annotated)
        .select(
            pl.col(ENSEMBL_ID).is_not_null().sum().alias("annotated"),
            pl.col("record").n_unique().alias("records"),
        )
        .collect()
        .row(0, named=True)
    )
    filled = write_rsid_fill(annotated, out_dir / FILL_FILE)
    facts: dict[str, Any] = {
        "engine": engine,
        "reference": reference.facts(),
        "records": int(counts["records"]),
        "rows": rows,
        "rows_annotated": int(counts["annotated"]),
        "rsids_filled": filled,
        "join_seconds": round(join_seconds, 3),
        "variants_per_second": round(rows / join_seconds) if join_seconds > 0 else None,
    }
    if vcf is not None:
        plan = plan_columns(parquet_columns(calls_path), reference_columns(reference.files.values()))
        facts["vcf_records"] = write_annotated_vcf(
            annotated,
            out_dir / VCF_FILE,
            sample=vcf.sample,
            reference_columns=list(plan.reference.values()),
            header_contigs=vcf.header_contigs,
            contig_naming=vcf.contig_naming,
            source=reference.source,
        )
    return facts


ENSEMBL_FOLDER = "ensembl"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class EnsemblFill:
    """A sample's rsID fill table and the reference revision it came from."""

    path: Path
    source: str
    revision: str


def current_fill(sample_dir: Path, source_sha256: str) -> EnsemblFill | None:
    """The sample's rsID fill table, if its Ensembl annotation was made from this very VCF (same SHA-256)."""
    import json

    folder = sample_dir / ENSEMBL_FOLDER
    manifest_path, fill = folder / MANIFEST_FILE, folder / FILL_FILE
    if not manifest_path.is_file() or not fill.is_file():
        return None
    try:
        manifest = json.loads(manifest_path.read_text())
    except ValueError:
        return None
    if (manifest.get("input") or {}).get("sha256") != source_sha256:
        return None
    reference = manifest.get("reference") or {}
    return EnsemblFill(fill, str(reference.get("source")), str(reference.get("revision")))

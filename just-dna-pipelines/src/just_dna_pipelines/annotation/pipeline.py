"""Annotate one normalized sample with a set of modules: site calls, matches, ledgers, outputs."""

from __future__ import annotations

import importlib
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl

from just_dna_pipelines.annotation.dbsnp_deletions import deletion_records
from just_dna_pipelines.annotation.ledger import module_ledger, tested_sites
from just_dna_pipelines.annotation.regions import (
    INTERVAL_SCHEMA,
    gvcf_reference_blocks,
    merge_intervals,
    read_bed_intervals,
)
from just_dna_pipelines.annotation.sites import load_weights, module_sites
from just_dna_pipelines.errors import PipelineError
from just_dna_pipelines.io.atomic import atomic_path
from just_dna_pipelines.liftover.chain import Chain
from just_dna_pipelines.liftover.sites import MODULES_BUILD, placed_sites
from just_dna_pipelines.modules.genotypes import effect_of
from just_dna_pipelines.modules.schema import MATCHED_SCHEMA

ENGINES = ("polars", "duckdb")  # annotation/engine_{name}.py, imported when chosen (DuckDB is a heavy import)
MODULES_GENOME_BUILD = MODULES_BUILD


def _engine(name: str) -> ModuleType:
    """The matching engine module of that name."""
    if name not in ENGINES:
        raise PipelineError(f"unknown engine {name!r}; choose from {', '.join(ENGINES)}")
    return importlib.import_module(f"just_dna_pipelines.annotation.engine_{name}")


@dataclass(frozen=True)
class SampleContext:
    """What the matcher needs to know about the sample beyond its calls."""

    calls_path: Path
    genome_build: str
    has_rsids: bool
    is_gvcf: bool
    confident_regions: Path | None = None
    chromosomes: list[str] | None = None  # chromosomes with records, when the calls hold module sites only
    assay: str = "sequencing"  # "sequencing" (a VCF) or "array" (a DNA-test raw file: a fixed set of probes)
    chain: Chain | None = None  # GRCh38 -> GRCh37, to place module sites in a GRCh37 sample

    @property
    def rsid_mode(self) -> str:
        """How rsIDs find records: an array's rsID names its probe ("also"); a VCF's only backs up positions."""
        if not self.has_rsids:
            return "never"
        return "also" if self.assay == "array" else "fallback"


def context_from_facts(
    calls_path: Path, facts: dict[str, Any], confident_regions: Path | None = None
) -> SampleContext:
    """The matcher's view of a normalized table, from its facts (sample_table.py)."""
    from just_dna_pipelines.liftover.chain import find_chain

    lifted = (facts.get("liftover") or {}).get("status") == "lifted"
    return SampleContext(
        calls_path=calls_path,
        genome_build=facts["genome_build"],
        has_rsids=facts["has_rsids"],
        is_gvcf=facts["is_gvcf"],
        confident_regions=confident_regions,
        chromosomes=facts.get("chromosomes"),
        assay="array" if facts.get("input_kind") == "array" else "sequencing",
        # The chain found while normalizing; if it has gone since, this fails the run rather than guess.
        chain=find_chain() if lifted else None,
    )


def infers_hom_ref(sample: SampleContext) -> bool:
    """Whether absence inside a proven-reference region may be read as hom-ref at a module site.

    Only on GRCh38: elsewhere the sample's reference base at a lifted site is not known to be the module's REF.
    """
    return sample.genome_build == MODULES_GENOME_BUILD


def reference_intervals(sample: SampleContext) -> pl.DataFrame:
    """Intervals where absence from the VCF proves homozygous reference (confident BED, gVCF blocks)."""
    if not infers_hom_ref(sample):
        return pl.DataFrame(schema=INTERVAL_SCHEMA)
    parts = []
    if sample.confident_regions is not None:
        parts.append(read_bed_intervals(sample.confident_regions))
    if sample.is_gvcf:
        parts.append(gvcf_reference_blocks(pl.scan_parquet(sample.calls_path)))
    return merge_intervals(pl.concat(parts)) if parts else pl.DataFrame(schema=INTERVAL_SCHEMA)


def vcf_chromosomes(calls_path: Path) -> pl.Series:
    """The chromosomes the normalized VCF has records on."""
    return pl.scan_parquet(calls_path).select(pl.col("chrom").unique()).collect()["chrom"]


def explain_absent_chromosomes(calls: pl.DataFrame, present: pl.Series) -> pl.DataFrame:
    """Say "chromosome_not_in_vcf" rather than "absent" where the VCF holds no record on that chromosome at all."""
    missing_chrom = (pl.col("reason") == "absent") & ~pl.col("chrom").is_in(present.implode())
    return calls.with_columns(
        pl.when(missing_chrom)
        .then(pl.lit("chromosome_not_in_vcf"))
        .otherwise(pl.col("reason"))
        .alias("reason")
    )


def explain_array_absence(calls: pl.DataFrame) -> pl.DataFrame:
    """On an array, a site that is nowhere in the file was not on the chip: say "not_on_array", never "absent"."""
    return calls.with_columns(
        pl.when(pl.col("reason").is_in(["absent", "rsid_absent"]))
        .then(pl.lit("not_on_array"))
        .otherwise(pl.col("reason"))
        .alias("reason")
    )


def matched_frame(matched: pl.DataFrame) -> pl.DataFrame:
    """Shape matched rows into the published results schema (the matched rows, and where the person's file
    holds each genotype: modules.schema.MATCHED_SCHEMA)."""
    zygosity = pl.when(pl.col("genotype").list.n_unique() == 1).then(pl.lit("hom")).otherwise(pl.lit("het"))
    return (
        matched.with_columns(zygosity.alias("zygosity"))
        .select([pl.col(name).cast(dtype) for name, dtype in MATCHED_SCHEMA.items()])
        .sort("weight", "rsid", descending=[True, False])
    )


def module_summary(
    name: str, calls: pl.DataFrame, matched: pl.DataFrame, sample: SampleContext
) -> dict[str, Any]:
    """Counts and ledger of one module; 'skipped' when none of its sites could be tested, saying why."""
    ledger = module_ledger(calls)
    status, reason = "done", None
    if tested_sites(ledger) == 0 and ledger["no_call"] == 0:
        status = "skipped"
        reason = skip_reason(sample, ledger)
    # a row without a weight (superhuman's) adds nothing to the net
    weights = matched["weight"].fill_null(0.0)
    effects = Counter(
        effect_of(weight, state) for weight, state in matched.select("weight", "state").iter_rows()
    )
    return {
        "status": status,
        "reason": reason,
        "matched": matched.height,
        "protective": effects["protective"],
        "risk": effects["risk"],
        "neutral": effects["neutral"],
        "net_weight": round(float(weights.sum()), 6) if matched.height else 0.0,
        "ledger": ledger,
    }


def skip_reason(sample: SampleContext, ledger: dict[str, Any]) -> str:
    """Why none of a module's sites could be tested, in one line."""
    reasons = ledger.get("not_testable_reasons") or {}
    if (
        sample.genome_build != MODULES_GENOME_BUILD
        and not sample.has_rsids
        and (reasons.get("build_unknown") or reasons.get("no_liftover_chain"))
    ):
        return (
            f"the file's positions cannot be placed on the modules' {MODULES_GENOME_BUILD} sites "
            f"(genome build {sample.genome_build}) and it has no rsIDs, so no site can be tested"
        )
    kind = "this array" if sample.assay == "array" else "this file"
    return f"none of the module's sites could be tested from {kind}"


@contextmanager
def _calls_with_dbsnp_deletions(calls_path: Path, sites: pl.DataFrame) -> Iterator[Path | list[Path]]:
    """The sample's calls, plus (in a temporary file) its records of the sites' dbSNP-style deletions written
    the module's way (dbsnp_deletions.py), when it has any."""
    added = deletion_records(calls_path, sites)
    if added is None:
        yield calls_path
        return
    with tempfile.TemporaryDirectory(prefix="dbsnp-deletions-") as scratch:
        path = Path(scratch) / "deletions.parquet"
        added.write_parquet(path)
        yield [calls_path, path]


def annotate_sample(
    sample: SampleContext,
    modules_root: Path,
    modules: list[str],
    out_dir: Path,
    *,
    engine: str = "polars",
    on_module_done: Callable[[str, dict[str, Any]], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Match every module against the sample and write `{module}_weights.parquet` into `out_dir` atomically.

    Returns per-module summaries (status, counts, ledger). A module that fails is recorded as failed
    and the others still run.
    """
    backend = _engine(engine)
    intervals = reference_intervals(sample)
    chromosomes = (
        pl.Series(sample.chromosomes, dtype=pl.String)
        if sample.chromosomes is not None
        else vcf_chromosomes(sample.calls_path)
    )
    summaries: dict[str, dict[str, Any]] = {}
    for name in modules:
        try:
            weights = load_weights(modules_root / name / "weights.parquet", name)
            sites = placed_sites(module_sites(weights), sample.genome_build, sample.chain)
            with _calls_with_dbsnp_deletions(sample.calls_path, sites) as calls_paths:
                calls = backend.site_calls(calls_paths, sites, intervals, rsid_mode=sample.rsid_mode)
            calls = explain_absent_chromosomes(calls, chromosomes)
            if sample.assay == "array":
                calls = explain_array_absence(calls)
            matched = matched_frame(backend.match_weights(weights, calls))
            output = out_dir / f"{name}_weights.parquet"
            with atomic_path(output) as tmp:
                matched.write_parquet(tmp)
            summary = module_summary(name, calls, matched, sample) | {"output": output.name}
        except (OSError, pl.exceptions.PolarsError) as exc:
            summary = {"status": "failed", "reason": str(exc).splitlines()[0], "matched": 0}
        summaries[name] = summary
        if on_module_done is not None:
            on_module_done(name, summary)
    return summaries

"""Turn any input (VCF, BCF, DNA-test raw file) into the one normalized variant table, with its build settled.

The facts returned with the table say what matching needs and nothing about where the genome came from:
the build positions are on (and how that was decided), whether module sites were lifted to it (and with which
chain), whether it is an array (absent sites were not on the chip), and the reading counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from just_dna_pipelines.annotation.build_evidence import (
    BuildDecision,
    build_evidence,
    decide_build,
    supported,
)
from just_dna_pipelines.io.input_kind import detect_input_kind
from just_dna_pipelines.io.vcf_filters import VcfFilters
from just_dna_pipelines.liftover.chain import Chain, ChainUnavailable, find_chain
from just_dna_pipelines.liftover.sites import MODULES_BUILD, lift_positions


@dataclass(frozen=True)
class SampleTable:
    """The normalized table and its facts (the shape `facts.json` and the manifest's input take)."""

    path: Path
    facts: dict[str, Any]


def chain_or_reason(*, download: bool = True) -> tuple[Chain | None, str | None]:
    """The GRCh38 -> GRCh37 chain, or why there is none (one line); without `download`, only one at hand."""
    try:
        return find_chain(download=download), None
    except ChainUnavailable as exc:
        return None, str(exc)


def reading_sites(sites: pl.DataFrame, build: str, chain: Chain | None) -> pl.DataFrame:
    """The positions to read through an index: the sites where the build puts them (both builds when unknown).

    Sites without a position stay as null rows, so the reader still sees that rsIDs may matter.
    """
    frames = []
    if build != "GRCh37":
        frames.append(sites.select("chrom", "start"))
    if build != MODULES_BUILD and chain is not None:
        lifted = lift_positions(sites, chain).filter(pl.col("lifted_start").is_not_null())
        frames.append(
            lifted.select(pl.col("lifted_chrom").alias("chrom"), pl.col("lifted_start").alias("start"))
        )
    unplaced = sites.filter(pl.col("start").is_null()).select("chrom", "start")
    frames.append(unplaced.head(1))
    return pl.concat(frames).unique()


def liftover_facts(build: str, chain: Chain | None, problem: str | None) -> dict[str, Any]:
    """Whether module sites are lifted for this build, with which chain, or why not."""
    if build != "GRCh37":
        return {"status": "not_needed"}
    if chain is None:
        return {"status": "unavailable", "reason": problem}
    return {"status": "lifted", "from": MODULES_BUILD, "to": "GRCh37", **chain.describe()}


def _vcf_table(
    path: Path,
    output: Path,
    *,
    sample_column: str | None,
    filters: VcfFilters,
    sites: pl.DataFrame | None,
    chain_at_hand: Chain | None = None,
) -> tuple[dict[str, Any], str | None, Chain | None, str | None]:
    """Normalize a VCF/BCF; return its facts, the build its header claims (None when unknown) and the chain
    (or why there is none) when its build is not the modules' own.

    With `chain_at_hand` (a claim being checked against the data) the module sites are read in both builds.
    """
    from just_dna_pipelines.io.vcf_header import read_vcf_header
    from just_dna_pipelines.io.vcf_normalize import normalize_vcf

    header = read_vcf_header(path)
    claim = header.genome_build if header.genome_build != "unknown" else None
    chain: Chain | None = chain_at_hand
    problem: str | None = None
    if chain is None and claim != MODULES_BUILD:
        chain, problem = chain_or_reason()
    read_at = None
    if sites is not None and (chain is not None or claim == MODULES_BUILD):
        read_at = reading_sites(sites, "unknown" if chain_at_hand is not None else claim or "unknown", chain)
    result = normalize_vcf(path, output, sample_column=sample_column, filters=filters, sites=read_at)
    facts: dict[str, Any] = {
        "input_kind": "vcf",
        "vendor": None,
        "sample_column": result.sample_column,
        "samples": header.samples,
        "records": result.records,
        "records_passing": result.records_passing,
        "no_calls": result.no_calls,
        "ref_blocks": result.ref_blocks,
        "contig_naming": header.contig_naming,
        "is_gvcf": result.is_gvcf,  # by its header, or by reference blocks among its records
        "malformed_records": result.malformed_records,
        "filters": result.filters.describe(),
        "warnings": list(result.warnings),
        "read_mode": result.mode,
        "site_reader": result.site_reader,
        "chromosomes": result.chromosomes,
    }
    return facts, claim, chain, problem


def _array_table(path: Path, output: Path) -> tuple[dict[str, Any], str | None]:
    """Normalize a DNA-test raw file; return its facts and the build its comments claim."""
    from just_dna_pipelines.io.raw_normalize import normalize_raw

    result = normalize_raw(path, output)
    facts: dict[str, Any] = {
        "input_kind": "array",
        "vendor": result.layout.vendor,
        "layout": result.layout.layout,
        "compression": result.compression,
        "sample_column": None,
        "samples": [],
        "records": result.records,
        "records_passing": result.records,
        "calls": result.calls,
        "no_calls": result.no_calls,
        "indels": result.indels,
        "call_rate": round(result.call_rate, 4),
        "ref_blocks": 0,
        "contig_naming": "plain",
        "is_gvcf": False,
        "malformed_records": 0,  # a raw file with damaged rows is refused whole (raw_normalize)
        "filters": {},
        "warnings": list(result.warnings),
        "read_mode": "full",
        "chromosomes": None,
    }
    return facts, result.layout.build_claim


def normalize_sample(
    path: Path,
    output: Path,
    module_sites: pl.DataFrame,
    *,
    sample_column: str | None = None,
    filters: VcfFilters | None = None,
    read_sites: bool = True,
    extra_read_sites: pl.DataFrame | None = None,
) -> SampleTable:
    """Read `path` (any supported kind) into `output` and settle the build its positions are on.

    `module_sites` (rsid, chrom, start, ref; GRCh38) are what the build is checked against and, with
    `read_sites`, the only positions read from an indexed VCF, together with `extra_read_sites` (chrom,
    start; e.g. where the Ensembl reference places rsID-only module sites).
    """
    kind = detect_input_kind(path)
    if kind == "vcf":
        read = module_sites if read_sites else None
        if read is not None and extra_read_sites is not None and extra_read_sites.height:
            read = pl.concat(
                [read.select("chrom", "start"), extra_read_sites.select("chrom", "start")],
                how="vertical_relaxed",
            ).unique()
        vcf_filters = filters or VcfFilters()
        facts, claim, chain, problem = _vcf_table(
            path, output, sample_column=sample_column, filters=vcf_filters, sites=read
        )
        decision = checked_claim(output, claim, module_sites, chain)
        if decision is None:  # the data do not back the header: look at both builds before deciding
            if chain is None:
                chain, problem = chain_or_reason(download=False)
            # read again at both builds' sites when the first read took the claimed build's alone
            if chain is not None and claim is not None and facts["read_mode"] == "module_sites":
                facts, claim, chain, problem = _vcf_table(
                    path,
                    output,
                    sample_column=sample_column,
                    filters=vcf_filters,
                    sites=read,
                    chain_at_hand=chain,
                )
            decision = decide_build(claim, build_evidence(output, module_sites, chain))
    else:
        facts, claim = _array_table(path, output)
        chain, problem = chain_or_reason()
        decision = decide_build(claim, build_evidence(output, module_sites, chain))
    facts["has_rsids"] = bool(
        pl.scan_parquet(output).select(pl.col("rsid").is_not_null().any()).collect().item()
    )
    facts["genome_build"] = decision.build
    facts["build"] = decision.describe()
    facts["warnings"] += decision.warnings
    facts["liftover"] = liftover_facts(decision.build, chain, problem)
    if facts["liftover"]["status"] == "unavailable":
        facts["warnings"].append(
            f"the input is GRCh37 but {problem}; positions are not used, only rsIDs are matched"
        )
    return SampleTable(output, facts)


def checked_claim(
    calls: Path, claim: str | None, module_sites: pl.DataFrame, chain: Chain | None
) -> BuildDecision | None:
    """A VCF header's build when its data back it (or when it cannot be checked here); None when they do not.

    A header can name the wrong build: a file lifted to another build keeps its old contig lines, or a tool
    writes its own default. Trusted unchecked, such a file was matched at the wrong positions and every site
    said "not in the file". The common case costs one look at the read table: the claimed build's own
    evidence. Only when that does not back the claim are both builds weighed (`decide_build`).
    """
    if claim is None:
        return None
    evidence = build_evidence(calls, module_sites, chain if claim != MODULES_BUILD else None)
    if claim not in evidence:  # a build the modules cannot be placed in (NCBI36), or GRCh37 without a chain
        return BuildDecision(claim, "header", evidence)
    others = [build for build, counts in evidence.items() if build != claim and supported(counts)]
    if supported(evidence[claim]) and not others:
        return BuildDecision(claim, "header+data", evidence)
    return None

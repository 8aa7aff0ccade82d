"""Look at an uploaded genome at once (any kind) and decide whether to take it: the facts an upload page shows.

Plain functions with no Dagster import; `service` re-exports them for the web app and the CLI.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from just_dna_pipelines.io.input_kind import detect_input_kind

if TYPE_CHECKING:
    from just_dna_pipelines.io.vcf_header import VcfHeader

MODULES_BUILD = "GRCh38"


@dataclass(frozen=True)
class InputFacts:
    """What a quick, complete read of an input tells: enough to accept or refuse an upload and to say why."""

    path: Path
    input_kind: str  # "vcf" (VCF, gzipped VCF, BCF) or "array" (a DNA-test raw file)
    vendor: (
        str | None
    )  # arrays: "23andMe", "AncestryDNA", "MyHeritage", "FamilyTreeDNA", "LivingDNA", "unknown"
    samples: list[str]  # VCF sample columns (empty for arrays)
    record_count: int  # VCF records, or array rows (SNPs)
    genome_build: str  # "GRCh38", "GRCh37", "NCBI36" or "unknown" (as the file states it)
    contig_naming: str
    is_gvcf: bool
    has_rsids: bool | None  # None when not looked at (a VCF whose build makes rsIDs irrelevant)
    call_rate: float | None  # arrays: share of rows with a genotype
    positions: (
        str  # how module sites will be found: "as_is", "lifted", "rsid_only", "decided_when_annotating"
    )
    warnings: list[str] = field(default_factory=list)
    default_sample: str | None = None  # VCFs: the sample read unless another is picked (controls skipped)
    sample_calls: dict[str, int] | None = None  # VCFs: genotype calls per sample in the first records
    malformed_records: int = 0  # VCFs: damaged records that will be skipped


# A file can state another build than its positions are on (a lifted VCF keeps its old header; a DNA-test file's
# comment names its vendor's usual build): the run checks the statement against the data at the module sites
# and follows the data, so the upload's forecast says so.
CHECKED_NOTE = (
    "the stated build is checked against the data at the module sites when annotating, and the data win"
)


def _positions(build: str, chain_problem: str | None) -> tuple[str, list[str]]:
    """How module sites will be placed in a file on `build`, with what the user should know about it."""
    positions, notes = _forecast(build, chain_problem)
    # "unknown" is decided from the data anyway; GRCh38, the usual case, is checked quietly
    if build in ("unknown", MODULES_BUILD):
        return positions, notes
    return positions, [*notes, f"genome build {build} as stated; {CHECKED_NOTE}"]


def _forecast(build: str, chain_problem: str | None) -> tuple[str, list[str]]:
    """`_positions` before the note that a stated build is checked."""
    if build == MODULES_BUILD:
        return "as_is", []
    if build == "GRCh37":
        if chain_problem is None:
            return "lifted", [
                "GRCh37 (hg19): the modules' GRCh38 sites will be lifted to GRCh37 and matched there"
            ]
        return "rsid_only", [f"GRCh37 (hg19), but {chain_problem}; only rsIDs can be matched"]
    if build == "unknown":
        return "decided_when_annotating", [
            "the genome build is not stated; it will be decided from the data at the module sites when annotating "
            "(if it cannot be, only rsIDs are matched)"
        ]
    return "rsid_only", [
        f"genome build {build}: module positions cannot be placed on it; only rsIDs are matched"
    ]


def _chain_problem() -> str | None:
    from just_dna_pipelines.liftover.chain import ChainUnavailable, find_chain

    try:
        find_chain()
    except ChainUnavailable as exc:
        return str(exc)
    return None


def validated_vcf(path: Path) -> tuple[VcfHeader, int]:
    """The header and record count of a VCF/BCF with a sample and GT, every record read within the read
    limits; VcfError (one line) if not."""
    from just_dna_pipelines.io.vcf_inspect import inspect_vcf_file

    inspection = inspect_vcf_file(path)
    return inspection.preview.header, inspection.counts.records


def _inspect_vcf(path: Path) -> InputFacts:
    from just_dna_pipelines.io.vcf_inspect import inspect_vcf_file

    inspection = inspect_vcf_file(path)
    header = inspection.preview.header
    problem = _chain_problem() if header.genome_build == "GRCh37" else None
    positions, notes = _positions(header.genome_build, problem)
    return InputFacts(
        path=path,
        input_kind="vcf",
        vendor=None,
        samples=header.samples,
        record_count=inspection.counts.records,
        genome_build=header.genome_build,
        contig_naming=header.contig_naming,
        is_gvcf=inspection.preview.is_gvcf,
        has_rsids=inspection.preview.peek.with_rsids if positions != "as_is" else None,
        call_rate=None,
        positions=positions,
        warnings=[*inspection.warnings, *notes],
        default_sample=inspection.preview.default_sample,
        sample_calls=inspection.sample_calls(),
        malformed_records=inspection.counts.malformed,
    )


def _inspect_array(path: Path) -> InputFacts:
    import polars as pl

    from just_dna_pipelines.io.raw_normalize import normalize_raw

    with tempfile.TemporaryDirectory(prefix="jdl-inspect-") as workdir:
        result = normalize_raw(path, Path(workdir) / "calls.parquet")
        has_rsids = bool(
            pl.scan_parquet(result.output).select(pl.col("rsid").is_not_null().any()).collect().item()
        )
    build = result.layout.build_claim or "unknown"
    problem = _chain_problem() if build in ("GRCh37", "unknown") else None
    positions, notes = _positions(build, problem)
    return InputFacts(
        path=path,
        input_kind="array",
        vendor=result.layout.vendor,
        samples=[],
        record_count=result.records,
        genome_build=build,
        contig_naming="plain",
        is_gvcf=False,
        has_rsids=has_rsids,
        call_rate=round(result.call_rate, 4),
        positions=positions,
        warnings=[
            *result.warnings,
            *notes,
            f"{result.layout.vendor} DNA-test array: {result.records:,} SNPs, call rate {result.call_rate:.1%}; "
            "an array reads a fixed set of positions, so many module sites will be 'not on the array'",
        ],
    )


def inspect_input(path: Path) -> InputFacts:
    """Validate any supported input completely (VCF, BCF, DNA-test raw file); VcfError with one line if unusable."""
    return _inspect_vcf(path) if detect_input_kind(path) == "vcf" else _inspect_array(path)


def upload_refusal(facts: InputFacts) -> str | None:
    """Why an inspected input should be refused (one line), or None to accept it."""
    name = facts.path.name
    if facts.input_kind == "array" and not facts.call_rate:
        return f"{name} has no genotype calls (every row is a no-call)"
    if facts.positions == "rsid_only" and facts.has_rsids is False:
        return (
            f"{name} is on {facts.genome_build} and has no rsIDs, and its positions cannot be placed on the "
            "modules' GRCh38 sites here, so no site could be tested"
            + (
                "; configure a GRCh38 to GRCh37 liftover chain (JUST_DNA_PIPELINES_LIFTOVER_CHAIN)"
                if facts.genome_build == "GRCh37"
                else ""
            )
        )
    return None

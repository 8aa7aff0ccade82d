"""A quick look at a VCF (header and first records): is it usable, which sample, is it a gVCF.

One function decides these for the upload check, the command line and normalization alike, so they agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.io.vcf_header import VcfHeader, read_vcf_header
from just_dna_pipelines.io.vcf_limits import ReadLimits, read_limits
from just_dna_pipelines.io.vcf_peek import RecordPeek, peek_records
from just_dna_pipelines.io.vcf_samples import choose_sample, default_sample

LIKELIHOOD_FIELDS = ("PL", "GL", "GP")


@dataclass(frozen=True)
class VcfPreview:
    """What the header and the first records tell, and the sample to read."""

    header: VcfHeader
    peek: RecordPeek
    sample_column: str  # the sample to read: the one asked for, else `default_sample`
    default_sample: str  # the first sample that is not a control and has calls
    is_gvcf: bool  # the header's gVCF markers, or reference blocks among the records
    warnings: list[str] = field(default_factory=list)


def _no_gt(header: VcfHeader, records: int) -> VcfError:
    """The refusal of a VCF whose records carry no genotype calls (`records` looked at)."""
    name = header.path.name
    if any(key in header.format_fields for key in LIKELIHOOD_FIELDS):
        return VcfError(
            f"{name} has genotype likelihoods but no GT (genotype calls); call genotypes first "
            "(e.g. bcftools call) and upload the result"
        )
    if "GT" in header.format_fields:  # declared, never used
        return VcfError(f"{name} declares GT (genotype) but none of its first {records:,} records has one")
    return VcfError(f"{name} has no GT (genotype) FORMAT field")


def preview_vcf(path: Path, sample_column: str | None = None, limits: ReadLimits | None = None) -> VcfPreview:
    """Read the header and peek at the first records; raise VcfError with one line when the file is unusable."""
    limits = limits or read_limits()
    header = read_vcf_header(path, limits)
    choose_sample(header, sample_column)  # a sites-only VCF or an unknown sample name is refused first
    peek = peek_records(header, limits)
    if peek.records == 0:
        raise VcfError(f"{path.name} has a header but no records")
    warnings = list(header.warnings)
    # Records without GT give nothing to match, declared or not (an undeclared one counts where it is first).
    if not peek.with_gt_key or ("GT" not in header.format_fields and not peek.with_gt):
        raise _no_gt(header, peek.records)
    if "GT" not in header.format_fields:
        warnings.append("GT is used by the records but not declared by a ##FORMAT line; read as genotypes")
    default = default_sample(header.samples, peek.called)
    return VcfPreview(
        header=header,
        peek=peek,
        sample_column=choose_sample(header, sample_column, default),
        default_sample=default,
        is_gvcf=header.is_gvcf or peek.ref_blocks > 0,
        warnings=warnings,
    )

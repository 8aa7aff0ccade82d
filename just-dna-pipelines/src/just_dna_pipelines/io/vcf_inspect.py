"""Validate a whole VCF at once (header, first records, every record within bounds) and gather its facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from just_dna_pipelines.io.vcf_count import RecordCounts, count_records
from just_dna_pipelines.io.vcf_limits import ReadLimits, read_limits
from just_dna_pipelines.io.vcf_preview import VcfPreview, preview_vcf
from just_dna_pipelines.io.vcf_records import check_damage


@dataclass(frozen=True)
class VcfInspection:
    """A usable VCF's quick-look facts plus its record counts."""

    preview: VcfPreview
    counts: RecordCounts
    warnings: list[str] = field(default_factory=list)

    def sample_calls(self) -> dict[str, int] | None:
        """Per sample, how many of the first records give it a genotype (None when not counted)."""
        called = self.preview.peek.called
        if called is None:
            return None
        return dict(zip(self.preview.header.samples, called, strict=True))


def inspect_vcf_file(path: Path, limits: ReadLimits | None = None) -> VcfInspection:
    """Everything an upload check needs; raise VcfError with one line when the file is unusable or hostile."""
    limits = limits or read_limits()
    preview = preview_vcf(path, None, limits)
    counts = count_records(preview.header, limits)
    damage = check_damage(path, counts.records, counts.malformed)
    return VcfInspection(preview, counts, [*preview.warnings, *([damage] if damage else [])])

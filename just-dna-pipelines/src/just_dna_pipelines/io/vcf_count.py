"""Count the records of a VCF/BCF, reading every line within bounds: well-formed and damaged ones."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.io.vcf_header import VcfHeader
from just_dna_pipelines.io.vcf_limits import ReadLimits, read_limits
from just_dna_pipelines.io.vcf_records import describe_read_error, is_blank, is_malformed, scan_records


@dataclass(frozen=True)
class RecordCounts:
    """How many records a file holds: usable ones, and damaged ones that reading skips."""

    records: int
    malformed: int


def check_bounds(header: VcfHeader, limits: ReadLimits) -> int:
    """Read the whole file once within the size and line limits, before any reader that buffers lines;
    return how many record lines it holds (damaged ones included, blank lines not)."""
    if header.container == "bcf":
        from just_dna_pipelines.io.vcf_bcf import check_bcf_bounds

        return check_bcf_bounds(header.path, limits)
    from just_dna_pipelines.io.vcf_stream import check_text_bounds

    shape = check_text_bounds(header.path, limits)
    return shape.lines - header.header_lines - shape.blank_lines


def count_good_records(source: Path, header: VcfHeader, label: Path) -> int:
    """How many well-formed records a VCF text holds (see vcf_records.is_malformed)."""
    try:
        frame = scan_records(source, header).filter(~is_blank() & ~is_malformed(header))
        return int(frame.select(pl.len()).collect().item())
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise VcfError(describe_read_error(label, exc)) from None


def count_records(header: VcfHeader, limits: ReadLimits | None = None) -> RecordCounts:
    """Well-formed and damaged records; raises VcfError if the file is truncated, damaged or beyond the limits.

    Damaged = record lines minus well-formed records: one definition for the upload check and the run.
    """
    limits = limits or read_limits()
    lines = check_bounds(header, limits)
    if header.container != "bcf":
        good = count_good_records(header.path, header, header.path)
    else:
        from just_dna_pipelines.io.vcf_bcf import bcf_as_vcf

        with tempfile.TemporaryDirectory(prefix="jdl-count-") as workdir:
            good = count_good_records(bcf_as_vcf(header.path, Path(workdir), limits), header, header.path)
    return RecordCounts(good, max(lines - good, 0))

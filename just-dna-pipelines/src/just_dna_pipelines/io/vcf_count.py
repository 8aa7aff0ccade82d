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


def check_bounds(header: VcfHeader, limits: ReadLimits) -> None:
    """Read the whole file once within the size and line limits, before any reader that buffers lines."""
    if header.container == "bcf":
        from just_dna_pipelines.io.vcf_bcf import check_bcf_bounds

        check_bcf_bounds(header.path, limits)
    else:
        from just_dna_pipelines.io.vcf_stream import check_text_bounds

        check_text_bounds(header.path, limits)


def _count_text(source: Path, header: VcfHeader) -> RecordCounts:
    malformed = is_malformed(header)
    try:
        row = (
            scan_records(source, header)
            .select(
                (~is_blank() & ~malformed).sum().alias("records"),
                malformed.sum().alias("malformed"),
            )
            .collect()
            .row(0)
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise VcfError(describe_read_error(header.path, exc)) from None
    return RecordCounts(int(row[0] or 0), int(row[1] or 0))


def count_records(header: VcfHeader, limits: ReadLimits | None = None) -> RecordCounts:
    """Well-formed and damaged records; raises VcfError if the file is truncated, damaged or beyond the limits."""
    check_bounds(header, limits or read_limits())
    if header.container != "bcf":
        return _count_text(header.path, header)
    from just_dna_pipelines.io.vcf_bcf import bcf_as_vcf

    with tempfile.TemporaryDirectory(prefix="jdl-count-") as workdir:
        return _count_text(bcf_as_vcf(header.path, Path(workdir)), header)

"""Count the records of a VCF/BCF quickly, proving every line of it can be read."""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl

from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.io.vcf_header import VcfHeader
from just_dna_pipelines.io.vcf_normalize import bcf_as_vcf, describe_read_error, scan_vcf_text


def _count_text(path: Path, label: Path) -> int:
    try:
        return int(scan_vcf_text(path, with_header=False).select(pl.len()).collect().item())
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise VcfError(describe_read_error(label, exc)) from None


def count_records(header: VcfHeader) -> int:
    """Number of data records; raises VcfError if the file is truncated or damaged."""
    if header.container != "bcf":
        return _count_text(header.path, header.path)
    with tempfile.TemporaryDirectory(prefix="jdl-count-") as workdir:
        return _count_text(bcf_as_vcf(header.path, Path(workdir)), header.path)

"""Facts about an input VCF file: identity (SHA-256, size) and header facts, as plain data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from just_dna_pipelines.io.file_hash import sha256_of
from just_dna_pipelines.io.vcf_preview import preview_vcf


def file_identity(path: Path) -> dict[str, Any]:
    """What identifies an input file's content and version: path, name, size, mtime and SHA-256."""
    stat = path.stat()
    return {
        "path": str(path.resolve()),
        "file_name": path.name,
        "size_bytes": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "sha256": sha256_of(path),
    }


def describe_vcf_source(path: Path) -> dict[str, Any]:
    """Identity and header facts of an input VCF; raises VcfError when it is not a usable VCF."""
    preview = preview_vcf(path)
    header = preview.header
    return {
        **file_identity(path),
        "container": header.container,
        "samples": header.samples,
        "genome_build": header.genome_build,
        "contig_naming": header.contig_naming,
        "default_sample": preview.default_sample,
        "is_gvcf": preview.is_gvcf,
        "warnings": preview.warnings,
    }

"""Which reader an input needs (a VCF/BCF, or a DNA-test array raw file), told from its bytes, never its name."""

from __future__ import annotations

import gzip
import tempfile
import zlib
from pathlib import Path
from typing import Any

from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.io.raw_open import GZIP_MAGIC
from just_dna_pipelines.io.regular_file import not_a_regular_file
from just_dna_pipelines.io.vcf_source import describe_vcf_source, file_identity

VCF_MAGIC = b"##fileformat=VCF"
BOM = b"\xef\xbb\xbf"
INPUT_KINDS = ("vcf", "array")


def _starts_like_vcf(head: bytes) -> bool:
    return head.removeprefix(BOM).startswith((VCF_MAGIC, b"BCF"))


def detect_input_kind(path: Path) -> str:
    """ "vcf" for VCF text, gzipped/bgzipped VCF and BCF; "array" for anything else (a raw file reader then decides)."""
    problem = not_a_regular_file(path, path.name, "a genome file")
    if problem is not None:
        raise VcfError(problem)
    with path.open("rb") as handle:
        head = handle.read(len(VCF_MAGIC) + len(BOM))
    if not head:
        raise VcfError(f"{path.name} is empty")
    if head[:2] == GZIP_MAGIC:
        try:
            with gzip.open(path, "rb") as inner:
                head = inner.read(len(VCF_MAGIC) + len(BOM))
        except (OSError, EOFError, zlib.error) as exc:
            raise VcfError(f"{path.name} is a damaged gzip file ({exc})") from None
    return "vcf" if _starts_like_vcf(head) else "array"


def describe_array_source(path: Path) -> dict[str, Any]:
    """Identity and header facts of a DNA-test raw file (vendor, layout, claimed build); one-line errors."""
    from just_dna_pipelines.io.raw_formats import detect_layout
    from just_dna_pipelines.io.raw_normalize import default_limits
    from just_dna_pipelines.io.raw_open import compression_of, extract_text

    with tempfile.TemporaryDirectory(prefix="jdl-raw-") as workdir:
        layout = detect_layout(extract_text(path, Path(workdir), default_limits()), path.name)
    return {
        **file_identity(path),
        "input_kind": "array",
        "container": compression_of(path),
        "vendor": layout.vendor,
        "layout": layout.layout,
        "samples": [],
        "genome_build": layout.build_claim or "unknown",
        "contig_naming": "plain",
        "is_gvcf": False,
        "warnings": list(layout.warnings),
    }


def describe_input(path: Path) -> dict[str, Any]:
    """Identity and header facts of any input (VCF, BCF or DNA-test raw file)."""
    if detect_input_kind(path) == "vcf":
        return describe_vcf_source(path) | {"input_kind": "vcf", "vendor": None}
    return describe_array_source(path)

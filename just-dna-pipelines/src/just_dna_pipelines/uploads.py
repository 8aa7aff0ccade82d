"""Where users' VCFs live in the input folder, and how a sample finds its file."""

from __future__ import annotations

from pathlib import Path

from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.keys import sample_name_from_filename, validate_name
from just_dna_pipelines.settings import get_settings

VCF_SUFFIXES = (".vcf", ".vcf.gz", ".vcf.bgz", ".bcf")


def is_vcf_name(name: str) -> bool:
    """Whether a file name has a VCF/BCF suffix."""
    return name.lower().endswith(VCF_SUFFIXES) and not name.startswith(".")


def user_vcf_files(user: str) -> list[Path]:
    """The VCF files in a user's input folder, oldest first."""
    folder = get_settings().user_input_dir(validate_name(user, "user name"))
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.is_file() and is_vcf_name(p.name)]
    return sorted(files, key=lambda p: p.stat().st_mtime_ns)


def find_user_vcf(user: str, sample: str) -> Path:
    """The newest VCF in the user's folder whose name gives this sample name."""
    validate_name(sample, "sample name")
    matches = [p for p in user_vcf_files(user) if sample_name_from_filename(p.name) == sample]
    if not matches:
        raise VcfError(f"no uploaded VCF for sample {sample!r} of user {user!r}")
    return matches[-1]

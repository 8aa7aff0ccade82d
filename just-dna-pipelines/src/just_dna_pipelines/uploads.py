"""Where users' genome files (VCFs and DNA-test raw files) live in the input folder, and how a sample finds its file."""

from __future__ import annotations

from pathlib import Path

from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.keys import GENOME_SUFFIXES, sample_name_from_filename, validate_name
from just_dna_pipelines.settings import get_settings

VCF_SUFFIXES = (".vcf", ".vcf.gz", ".vcf.bgz", ".bcf")
# VCFs and DNA-test raw files as vendors ship them (the content, not the suffix, says what a file is): the
# suffixes a sample name is cut from, so every input file names a sample.
INPUT_SUFFIXES = GENOME_SUFFIXES


def is_vcf_name(name: str) -> bool:
    """Whether a file name has a VCF/BCF suffix."""
    return name.lower().endswith(VCF_SUFFIXES) and not name.startswith(".")


def is_input_name(name: str) -> bool:
    """Whether a file name has a suffix of a genome input (VCF/BCF or DNA-test raw file)."""
    return name.lower().endswith(INPUT_SUFFIXES) and not name.startswith(".")


def input_suffix(name: str) -> str | None:
    """The input suffix a file name ends with (".vcf.gz", ".zip", ...), or None."""
    return next((s for s in INPUT_SUFFIXES if name.lower().endswith(s)), None)


def user_vcf_files(user: str) -> list[Path]:
    """The genome files (VCFs and DNA-test raw files) in a user's input folder, oldest first."""
    folder = get_settings().user_input_dir(validate_name(user, "user name"))
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.is_file() and is_input_name(p.name)]
    return sorted(files, key=lambda p: p.stat().st_mtime_ns)


def find_user_vcf(user: str, sample: str) -> Path:
    """The newest genome file in the user's folder whose name gives this sample name."""
    validate_name(sample, "sample name")
    matches = [p for p in user_vcf_files(user) if sample_name_from_filename(p.name) == sample]
    if not matches:
        raise VcfError(f"no uploaded genome file for sample {sample!r} of user {user!r}")
    return matches[-1]

"""The one place where user input becomes a partition key or a path component."""

from __future__ import annotations

import re

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_NAME_LENGTH = 64
# The suffixes of genome files (VCFs, DNA-test raw files as vendors ship them), which a sample name is cut from;
# first match wins, so ".vcf.gz" and ".txt.gz" come before ".gz".
GENOME_SUFFIXES = (
    ".vcf.gz",
    ".vcf.bgz",
    ".vcf",
    ".bcf",
    ".txt.gz",
    ".csv.gz",
    ".tsv.gz",
    ".txt",
    ".csv",
    ".tsv",
    ".zip",
    ".gz",
)


class InvalidKeyError(ValueError):
    """A user, sample or partition key that is unsafe to use as a path or partition."""


def validate_name(value: str, what: str = "name") -> str:
    """Return `value` if it is a safe user or sample name, else raise InvalidKeyError.

    Safe: 1-64 characters from letters, digits, '.', '_' and '-', starting with a letter or digit,
    and not made of dots only (so never '.' or '..').
    """
    if not isinstance(value, str) or not NAME_PATTERN.fullmatch(value) or set(value) <= {"."}:
        raise InvalidKeyError(
            f"invalid {what} {value!r}: use 1-{MAX_NAME_LENGTH} letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return value


def make_partition_key(user: str, sample: str) -> str:
    """Build the `user/sample` partition key from validated parts."""
    return f"{validate_name(user, 'user name')}/{validate_name(sample, 'sample name')}"


def parse_partition_key(key: str) -> tuple[str, str]:
    """Split and validate a `user/sample` partition key."""
    parts = key.split("/") if isinstance(key, str) else []
    if len(parts) != 2:
        raise InvalidKeyError(f"invalid partition key {key!r}: expected 'user/sample'")
    return validate_name(parts[0], "user name"), validate_name(parts[1], "sample name")


def sample_name_from_filename(filename: str) -> str:
    """Derive a safe sample name from a file name: its stem without genome-file suffixes, unsafe characters replaced."""
    name = filename.rsplit("/", 1)[-1]
    for suffix in GENOME_SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")[:MAX_NAME_LENGTH]
    return validate_name(name or "sample", "sample name")


def stored_sample_name(filename: str, suffix: str) -> str:
    """The sample an upload of `filename` becomes when stored as `{sample}{suffix}`: a name that file maps back to.

    Deriving a name is not idempotent: "mine.vcf..gz" gives "mine.vcf", whose stored "mine.vcf.gz" gives "mine".
    Everything that finds a sample's file derives the name from the stored file, so the upload takes that name.
    """
    if suffix not in GENOME_SUFFIXES:
        raise InvalidKeyError(f"not a genome file suffix: {suffix!r}")
    sample = sample_name_from_filename(filename)
    # Ends: a name that does not come back comes back shorter (a longer suffix, or a trailing '.' cut).
    while (again := sample_name_from_filename(sample + suffix)) != sample:
        sample = again
    return sample

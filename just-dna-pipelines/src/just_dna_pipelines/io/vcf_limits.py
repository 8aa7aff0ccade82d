"""How much of an input VCF may be read: decompressed size and line length, from the settings."""

from __future__ import annotations

from dataclasses import dataclass

GIB = 1 << 30
MIB = 1 << 20
# The header (## lines and #CHROM) is held in memory whole; real headers are kilobytes to a few MB.
MAX_HEADER_BYTES = 64 * MIB
# Header lines and sample columns: far beyond any real VCF (a few thousand ##contig lines; a joint call of a few
# thousand people), and small enough that a tiny crafted file cannot make the reader hold a gigabyte of them.
MAX_HEADER_LINES = 500_000
MAX_SAMPLES = 100_000
# Empty lines are tolerated between records, but a file of millions of them is not a genome (a kilobyte gzip of
# them cost minutes of CPU at upload).
MAX_BLANK_LINES = 1_000_000


@dataclass(frozen=True)
class ReadLimits:
    """Upper bounds on the decompressed bytes of a file and on the length of one line (or BCF record)."""

    max_decompressed_bytes: int
    max_line_bytes: int

    def describe_size(self) -> str:
        """The size limit for messages, e.g. '64 GB'."""
        return f"{self.max_decompressed_bytes / GIB:g} GB"

    def describe_line(self) -> str:
        """The line limit for messages, e.g. '16 MB'."""
        return f"{self.max_line_bytes / MIB:g} MB"


def read_limits() -> ReadLimits:
    """The configured limits (JUST_DNA_PIPELINES_MAX_DECOMPRESSED_GB, JUST_DNA_PIPELINES_MAX_LINE_MB)."""
    from just_dna_pipelines.settings import get_settings

    settings = get_settings()
    return ReadLimits(
        max_decompressed_bytes=int(settings.max_decompressed_gb * GIB),
        max_line_bytes=int(settings.max_line_mb * MIB),
    )

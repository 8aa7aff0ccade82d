"""Which sample of a VCF to read: the one asked for, or a sensible default that skips lab controls."""

from __future__ import annotations

import re

from just_dna_pipelines.errors import VcfError, printable
from just_dna_pipelines.io.vcf_header import VcfHeader

# Names labs give to negative controls and leftover barcodes; such a column is never someone's genome.
CONTROL_NAME = re.compile(
    r"^(blank|ntc|nc|neg|negative|neg[ _-]?ctrl|negative[ _-]?control|no[ _-]?template([ _-]?control)?"
    r"|water|h2o|empty|undetermined)[ _-]?\d*$",
    re.IGNORECASE,
)
LISTED_SAMPLES = 10


def looks_like_control(name: str) -> bool:
    """Whether a sample name is empty or names a control (BLANK, NTC, water, ...)."""
    return not name.strip() or bool(CONTROL_NAME.match(name.strip()))


def default_sample(samples: list[str], called: list[int] | None = None) -> str:
    """The first sample that is not a control and has calls (when known); else the first with calls; else the first.

    `called[i]` is how many records give sample i a genotype (None when not counted).
    """
    if not samples:
        raise ValueError("no samples")
    order = range(len(samples))
    with_calls = [i for i in order if called is None or called[i] > 0]
    for pool in (
        [i for i in with_calls if not looks_like_control(samples[i])],
        [i for i in order if not looks_like_control(samples[i])],
        with_calls,
    ):
        if pool:
            return samples[pool[0]]
    return samples[0]


def list_samples(samples: list[str]) -> str:
    """The sample names for a message, cut after the first few."""
    # the file's own text: an invisible control in a name (a bidi override) is written as an escape
    shown = ", ".join(printable(name) or "(empty name)" for name in samples[:LISTED_SAMPLES])
    more = len(samples) - LISTED_SAMPLES
    return f"{shown} and {more} more" if more > 0 else shown


def choose_sample(header: VcfHeader, sample_column: str | None, default: str | None = None) -> str:
    """The sample to read: the one named, else `default` (else the first); raise VcfError when there is none."""
    if not header.samples:
        raise VcfError(f"{header.path.name} has no sample columns (a sites-only VCF carries no genotypes)")
    if sample_column is None:
        return default if default is not None else header.samples[0]
    if sample_column not in header.samples:
        raise VcfError(
            f"sample {sample_column} is not in {header.path.name}; its samples: {list_samples(header.samples)}"
        )
    return sample_column

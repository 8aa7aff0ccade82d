"""Scan VCF records with Polars by column position, and tell well-formed records from damaged ones.

Columns are taken by position, never by the #CHROM line's names: sample names may be empty, repeated or
hold spaces, and the header may end with a stray tab. One column more than the header names catches a
record with too many fields; a record with too few has nulls at its end.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.io.vcf_header import VcfHeader

FIXED = ["CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"]
EXTRA = "_extra"


def sample_field(index: int) -> str:
    """The scan's column name of the sample at `index` (0-based) in the #CHROM line."""
    return f"sample_{index}"


def record_columns(header: VcfHeader) -> list[str]:
    """Every column the scan yields: the fixed ones, one per sample, and one catching surplus fields."""
    return [*FIXED, *(sample_field(i) for i in range(len(header.samples))), EXTRA]


def scan_records(source: Path, header: VcfHeader) -> pl.LazyFrame:
    """Lazily scan the records of VCF text (plain or gzipped) as strings, header lines skipped.

    Pitfalls avoided: no type inference ("." in QUAL), no quoting (INFO may hold quotes), no failure on
    bytes that are not UTF-8 (old annotations in Latin-1).
    """
    return pl.scan_csv(
        source,
        separator="\t",
        comment_prefix="#",
        has_header=False,
        schema=dict.fromkeys(record_columns(header), pl.String),
        missing_columns="insert",
        quote_char=None,
        truncate_ragged_lines=True,
        raise_if_empty=False,
        encoding="utf8-lossy",  # a stray Latin-1 byte in INFO must not refuse a whole genome
        glob=False,  # the file's own name: "p*.vcf" read every p...vcf beside it, "a[1].vcf" none
    )


def is_blank() -> pl.Expr:
    """An empty line (tolerated, not a record)."""
    return pl.col("CHROM").is_null() & pl.col("POS").is_null()


def is_malformed(header: VcfHeader) -> pl.Expr:
    """A damaged record: missing or surplus columns, no usable POS, no REF or ALT (blank lines excluded)."""
    last = sample_field(len(header.samples) - 1) if header.samples else "INFO"
    position = pl.col("POS").cast(pl.Int64, strict=False)
    damaged = (
        pl.col("CHROM").is_null()
        | position.is_null()
        | (position < 0)
        | pl.col("REF").is_null()
        | pl.col("ALT").is_null()
        | pl.col(last).is_null()
        | pl.col(EXTRA).is_not_null()
    )
    return ~is_blank() & damaged


MAX_MALFORMED_FRACTION = 0.01  # more damaged records than this and the file is refused, not read in part


def check_damage(path: Path, good: int, malformed: int) -> str | None:
    """Refuse a file with no good records or too many damaged ones; else a warning line when some are damaged."""
    total = good + malformed
    if total == 0:
        raise VcfError(f"{path.name} has a header but no records")
    if malformed and (good == 0 or malformed > total * MAX_MALFORMED_FRACTION):
        raise VcfError(
            f"{path.name} has {malformed:,} damaged records of {total:,} (wrong number of columns or no "
            f"position), more than {MAX_MALFORMED_FRACTION:.0%}, so it is refused as damaged"
        )
    if malformed:
        return f"{malformed:,} damaged records of {total:,} (wrong number of columns or no position) were skipped"
    return None


def describe_read_error(path: Path, exc: Exception) -> str:
    """Turn a reader exception into one line the user can act on (no library dump, no server path)."""
    from just_dna_pipelines.io.htslib_quiet import ABSOLUTE_PATH

    text = str(exc).strip().splitlines()[0].strip() if str(exc).strip() else type(exc).__name__
    text = ABSOLUTE_PATH.sub(r"\1", text)
    lowered = text.lower()
    if "utf-8" in lowered or "utf8" in lowered:
        return f"{path.name} holds bytes that are not text (not a VCF, or damaged)"
    if any(word in lowered for word in ("gzip", "deflate", "decompress", "eof", "end of file", "truncated")):
        return f"{path.name} is truncated or a damaged gzip file"
    return f"could not read {path.name}: {text}"

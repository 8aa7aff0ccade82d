"""Normalize a DNA-test raw file into the variant table the matchers take (the columns of vcf_normalize).

What an array row becomes: chrom without `chr` (23/24/25/26 and XY/M as X, Y, X, MT), start = end = position,
ref null and alts empty (an array does not say the reference), rsid when the id is an rsID (vendor ids such
as 23andMe's `i...` are kept out), gt the raw call (`AG`, `--`), genotype the sorted alleles, filter `.`.
zygosity is `het`, `hom`, `hemizygous` (one allele: male X/Y, MT), `no_call` (`--`, `00`, `-`) or `indel`
(`II`, `DD`, `DI`: insertion/deletion calls that cannot be compared with module alleles).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from just_dna_pipelines.errors import quoted
from just_dna_pipelines.io.atomic import atomic_path
from just_dna_pipelines.io.raw_formats import FIELD_STRIP, RawLayout, detect_layout, no_rows_error
from just_dna_pipelines.io.raw_open import RawInputError, RawLimits, compression_of, extract_text
from just_dna_pipelines.settings import get_settings

CHROM_ALIASES = {"23": "X", "24": "Y", "25": "X", "XY": "X", "26": "MT", "M": "MT", "0": None}
NO_CALL = r"^[-0N?]*$|^NC$"
# Above this share of unreadable calls the file is not what its layout says.
MAX_UNREADABLE_SHARE = 0.05
# A run of tabs with the blanks and quotes around it: one separator where runs are (raw_formats says where).
SEPARATOR_RUN = r'[ "]*\t[\t "]*'


@dataclass(frozen=True)
class NormalizedRaw:
    """What reading a raw file found: vendor, layout, counts, and the build its comments claim."""

    layout: RawLayout
    compression: str
    records: int
    calls: int
    no_calls: int
    indels: int
    unplaced: int  # rows without a usable chromosome/position (matched by rsID only)
    chromosomes: list[str]
    output: Path
    warnings: list[str] = field(default_factory=list)

    @property
    def call_rate(self) -> float:
        """Share of rows with a genotype (indel calls included), as vendors count it."""
        return (self.calls + self.indels) / self.records if self.records else 0.0


def default_limits() -> RawLimits:
    """The configured bounds on raw files."""
    settings = get_settings()
    return RawLimits(settings.raw_max_bytes, settings.raw_max_line_bytes)


def _run_separated_lines(text: Path, layout: RawLayout) -> pl.LazyFrame:
    """The data lines (column `line`) with each run of tabs made one tab and the ends stripped of blanks and
    quotes, blank lines left out: the row's non-empty fields, tab-separated."""
    return (
        pl.scan_csv(
            text,
            separator="\x00",  # never in the text (raw_open refuses NUL bytes): each line is one field
            has_header=False,
            skip_lines=layout.data_start,
            comment_prefix="#",
            quote_char=None,
            infer_schema=False,
            new_columns=["line"],
            glob=False,  # a path, never a pattern (a temporary folder named with [ ] * ?)
        )
        .select(pl.col("line").str.replace_all(SEPARATOR_RUN, "\t").str.strip_chars(FIELD_STRIP))
        .filter(pl.col("line") != "")
    )


def misshapen_row(text: Path, layout: RawLayout) -> tuple[int, str] | None:
    """The first data row (its number of fields, and its fields space-separated) whose non-empty fields are not
    the layout's columns, where a run of tabs is one separator; None when every row has them (or runs are not
    read, where the strict CSV read refuses a ragged row itself)."""
    if not layout.separator_runs:
        return None
    count = pl.col("line").str.count_matches("\t") + 1
    first = (
        _run_separated_lines(text, layout)
        .filter(count != len(layout.columns))
        .select(count.alias("fields"), pl.col("line").str.replace_all("\t", " ", literal=True))
        .head(1)
        .collect()
    )
    return (int(first["fields"][0]), str(first["line"][0])) if first.height else None


def _scan(text: Path, layout: RawLayout) -> pl.LazyFrame:
    """The data rows as strings stripped of blanks and quotes, named by the layout's columns; a repeat of the
    column line left out (raw_formats says why fields are split on every separator, and where a run of them is
    one)."""
    if layout.separator_runs:
        frame = (
            _run_separated_lines(text, layout)
            .select(
                pl.col("line")
                .str.split_exact("\t", len(layout.columns) - 1)
                .struct.rename_fields(list(layout.columns))
            )
            .unnest("line")
        )
    else:
        frame = pl.scan_csv(
            text,
            separator=layout.separator,
            has_header=False,
            skip_lines=layout.data_start,
            comment_prefix="#",
            quote_char=None,
            infer_schema=False,
            new_columns=list(layout.columns),
            truncate_ragged_lines=False,
            glob=False,
        ).select(pl.col(name).str.strip_chars(FIELD_STRIP) for name in layout.columns)
    # An empty line is no row (it was counted as a record and a no-call: 3 SNPs with 4 empty lines read as 7
    # records, the call rate understated)
    frame = frame.filter(pl.any_horizontal((pl.col(name) != "").fill_null(False) for name in layout.columns))
    if layout.column_fields is None:
        return frame
    repeat = pl.all_horizontal(
        pl.col(name).eq_missing(value)
        for name, value in zip(layout.columns, layout.column_fields, strict=True)
    )
    return frame.filter(~repeat)


def _aliased(chrom: pl.Expr) -> pl.Expr:
    """`chrom` with CHROM_ALIASES applied. A when/then chain: `Expr.replace` with a mapping held the whole
    column in memory (a 200 MB raw file took 1.1 GB instead of ~0.3 GB; bench/RESULTS.md)."""
    aliased = chrom
    for name, alias in CHROM_ALIASES.items():
        aliased = pl.when(chrom == name).then(pl.lit(alias, dtype=pl.String)).otherwise(aliased)
    return aliased


def raw_calls(text: Path, layout: RawLayout) -> pl.LazyFrame:
    """The lazy normalization of raw rows into the normalized variant table."""
    frame = _scan(text, layout)
    if layout.layout == "rsid_allele_pair":
        raw_call = pl.concat_str([pl.col("allele1"), pl.col("allele2")])
    else:
        raw_call = pl.col("result" if layout.layout == "csv_result" else "genotype")
    bare = pl.col("chromosome").str.to_uppercase().str.strip_prefix("CHR")
    position = pl.col("position").cast(pl.Int64, strict=False)
    # Intermediate columns first, so each string operation runs once per row.
    staged = frame.select(
        pl.col("rsid").str.extract(r"^(rs[0-9]+)$", 1).alias("rsid"),
        raw_call.str.to_uppercase().alias("gt"),
        _aliased(bare).alias("_chrom"),
        pl.when(position > 0).then(position).alias("_start"),
    ).with_columns(
        pl.col("gt").str.contains(r"^[ACGT]{1,2}$").alias("_is_call"),
        pl.col("gt").str.contains(r"^[ID]{1,2}$").alias("_is_indel"),
        pl.col("gt").str.slice(0, 1).alias("_first"),
        pl.col("gt").str.slice(1, 1).alias("_second"),
    )
    first, second, is_call = pl.col("_first"), pl.col("_second"), pl.col("_is_call")
    # Built as one sorted "a,b" string split once: several times faster than list operations (PERF-NOTES.md).
    genotype = (
        pl.when(~is_call)
        .then(pl.lit(None, dtype=pl.String))
        .when(second == "")
        .then(first)
        .when(first <= second)
        .then(pl.concat_str([first, pl.lit(","), second]))
        .otherwise(pl.concat_str([second, pl.lit(","), first]))
        .str.split(",")
    )
    zygosity = (
        pl.when(pl.col("_is_indel"))
        .then(pl.lit("indel"))
        .when(~is_call)
        .then(pl.lit("no_call"))
        .when(second == "")
        .then(pl.lit("hemizygous"))
        .when(first == second)
        .then(pl.lit("hom"))
        .otherwise(pl.lit("het"))
    )
    chrom_ok = pl.col("_chrom").str.contains(r"^([0-9]{1,2}|X|Y|MT)$").fill_null(False)
    placed = chrom_ok & pl.col("_start").is_not_null()
    return staged.select(
        pl.when(placed).then(pl.col("_chrom")).alias("chrom"),
        pl.when(placed).then(pl.col("_start")).alias("start"),
        pl.when(placed).then(pl.col("_start")).alias("end"),
        pl.lit(None, dtype=pl.String).alias("ref"),
        pl.lit([], dtype=pl.List(pl.String)).alias("alts"),
        "rsid",
        pl.lit(None, dtype=pl.Float64).alias("qual"),
        pl.lit(".").alias("filter"),
        "gt",
        genotype.alias("genotype"),
        zygosity.alias("zygosity"),
        pl.lit(None, dtype=pl.Int64).alias("dp"),
        pl.lit(None, dtype=pl.Int64).alias("gq"),
        pl.lit(False).alias("ref_block"),
        pl.lit(True).alias("passes_filters"),
    )


def unreadable_calls(text: Path, layout: RawLayout) -> tuple[int, int]:
    """(rows, rows whose call is neither a genotype, an indel call nor a no-call): a cheap first pass."""
    calls = raw_calls(text, layout).select("gt")
    readable = pl.col("gt").fill_null("").str.contains(rf"^[ACGT]{{1,2}}$|^[ID]{{1,2}}$|{NO_CALL}")
    row = calls.select(pl.len().alias("rows"), (~readable).sum().alias("bad")).collect().row(0)
    return int(row[0]), int(row[1] or 0)


def result_vendor(layout: RawLayout) -> str:
    """The vendor's name for messages ("DNA-test raw" when unknown)."""
    return layout.vendor if layout.vendor != "unknown" else "DNA-test raw"


def _summary(parquet: Path) -> dict:
    """Counts over the written table."""
    return (
        pl.scan_parquet(parquet)
        .select(
            pl.len().alias("records"),
            pl.col("genotype").is_not_null().sum().alias("calls"),
            (pl.col("zygosity") == "indel").sum().alias("indels"),
            (pl.col("zygosity") == "no_call").sum().alias("no_calls"),
            pl.col("start").is_null().sum().alias("unplaced"),
            pl.col("chrom").drop_nulls().unique().sort().alias("chromosomes").implode(),
        )
        .collect()
        .row(0, named=True)
    )


def normalize_raw(path: Path, output: Path, limits: RawLimits | None = None) -> NormalizedRaw:
    """Read a DNA-test raw file (plain, gzipped or zipped) into `output` (Parquet, atomically); one-line errors."""
    limits = limits or default_limits()
    with tempfile.TemporaryDirectory(prefix="jdl-raw-") as workdir:
        text = extract_text(path, Path(workdir), limits)
        layout = detect_layout(text, path.name)
        try:
            misshapen = misshapen_row(text, layout)
            if misshapen is not None:
                fields, row = misshapen
                raise RawInputError(
                    f"{path.name} has a row of {fields} fields where {result_vendor(layout)} rows have "
                    f"{len(layout.columns)} ({', '.join(layout.columns)}): {quoted(row)}"
                )
            rows, unreadable = unreadable_calls(text, layout)
        except pl.exceptions.NoDataError:
            raise no_rows_error(path.name) from None
        except (pl.exceptions.PolarsError, OSError):
            # Polars' own text quotes Python names; say what is wrong in the file's terms instead.
            raise RawInputError(
                f"{path.name} has malformed rows: {result_vendor(layout)} files have {len(layout.columns)} columns "
                f"({', '.join(layout.columns)}) on every row"
            ) from None
        if rows == 0:
            raise no_rows_error(path.name)
        if unreadable > MAX_UNREADABLE_SHARE * rows:
            raise RawInputError(
                f"{path.name}: {unreadable} of {rows} rows have no readable genotype (expected calls like AG, A, --, DI)"
            )
        with atomic_path(output) as tmp:
            raw_calls(text, layout).sink_parquet(tmp, compression="zstd", statistics=True)
            counts = _summary(tmp)
    warnings = list(layout.warnings)
    if counts["unplaced"]:
        warnings.append(
            f"{counts['unplaced']} rows have no chromosome or position; they are matched by rsID only"
        )
    return NormalizedRaw(
        layout=layout,
        compression=compression_of(path),
        records=int(counts["records"]),
        calls=int(counts["calls"]),
        no_calls=int(counts["no_calls"]),
        indels=int(counts["indels"]),
        unplaced=int(counts["unplaced"]),
        chromosomes=list(counts["chromosomes"] or []),
        output=output,
        warnings=warnings,
    )

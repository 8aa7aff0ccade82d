"""Write an annotated table as a bgzipped, tabix-indexed VCF: one record per sample allele, reference columns in INFO.

Split multi-allelic records get their GT recoded like `bcftools norm -m-` does (this ALT -> 1, other
ALTs -> 0). Reference columns become INFO fields (booleans as flags, lists comma-joined, text
percent-encoded where VCF reserves a character).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from just_dna_pipelines.errors import EnsemblError, printable
from just_dna_pipelines.io.genome_build import normalize_chrom

INFO_KEY = re.compile(r"[^0-9A-Za-z_.]")
FILTER_ID = re.compile(r"[^\s;,=<>\"]+")  # what can stand as a FILTER ID in a header line
# VCF 4.3 reserves these in INFO values; they are written percent-encoded.
RESERVED = (
    ("%", "%25"),
    (";", "%3B"),
    ("=", "%3D"),
    (",", "%2C"),
    ("\t", "%09"),
    ("\n", "%0A"),
    ("\r", "%0D"),
)


@dataclass(frozen=True)
class InfoField:
    """One INFO field made from a reference column."""

    column: str
    key: str
    number: str
    kind: str  # VCF Type

    def header(self) -> str:
        """The ##INFO header line (the column's name is the reference's own text: a quote or a newline in it
        ended the line early and added header lines of its own)."""
        column = printable(self.column).replace("\\", "\\\\").replace('"', '\\"')
        return (
            f"##INFO=<ID={self.key},Number={self.number},Type={self.kind},"
            f'Description="Ensembl reference column {column}">'
        )


def info_key(name: str, taken: set[str]) -> str:
    """A valid, unused INFO key for a column name."""
    key = INFO_KEY.sub("_", name) or "_"
    if key[0].isdigit() or key[0] == ".":
        key = "_" + key
    base, n = key, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    taken.add(key)
    return key


def info_fields(schema: pl.Schema, columns: list[str]) -> list[InfoField]:
    """INFO fields for the reference columns whose types a VCF can carry (nested structs are left out)."""
    taken: set[str] = set()
    fields = []
    for column in columns:
        dtype = schema[column]
        inner = dtype.inner if isinstance(dtype, pl.List) else dtype  # type: ignore[union-attr]
        if isinstance(inner, pl.Struct | pl.List | pl.Array):
            continue
        if inner == pl.Boolean:
            number, kind = ("0", "Flag") if not isinstance(dtype, pl.List) else (".", "String")
        elif inner.is_integer():
            number, kind = "1", "Integer"
        elif inner.is_float():
            number, kind = "1", "Float"
        else:
            number, kind = "1", "String"
        if isinstance(dtype, pl.List):
            number = "."
        fields.append(InfoField(column, info_key(column, taken), number, kind))
    return fields


def _escaped(expr: pl.Expr) -> pl.Expr:
    for char, code in RESERVED:
        expr = expr.str.replace_all(char, code, literal=True)
    return expr


def _info_value(field: InfoField, dtype: pl.DataType) -> pl.Expr:
    """`KEY=value` (or `KEY` for a true flag) for one row; null when the column is null or false."""
    column = pl.col(field.column)
    if field.kind == "Flag":
        return pl.when(column).then(pl.lit(field.key))
    text: pl.Expr
    if isinstance(dtype, pl.List):
        items = column.list.eval(_escaped(pl.element().cast(pl.String).fill_null(".")))
        text = pl.when(column.list.len() > 0).then(items.list.join(","))
    else:
        text = _escaped(column.cast(pl.String))
    return pl.when(text.is_not_null()).then(pl.concat_str(pl.lit(field.key + "="), text))


def _record_id() -> pl.Expr:
    """The record's ID: its rsID, else the reference's id; "." when none, or when it holds whitespace, which a VCF
    ID cannot (a reference id with a newline and tabs wrote a made-up record of its own into the person's VCF)."""
    given = pl.coalesce(pl.col("rsid"), pl.col("ensembl_id"))
    return pl.when(given.is_null() | given.str.contains(r"\s")).then(pl.lit(".")).otherwise(given)


def filter_lines(frame: pl.LazyFrame, schema: pl.Schema) -> list[str]:
    """A ##FILTER line for every FILTER value the records carry but PASS: a VCF must declare them (bcftools
    refuses to sort a file with undeclared ones, and warns on reading it)."""
    if "filter" not in schema:
        return []
    values = (
        frame.select(pl.col("filter").drop_nulls().str.split(";").explode().unique().sort())
        .collect()["filter"]
        .to_list()
    )
    return [
        f'##FILTER=<ID={value},Description="FILTER {value} of the input VCF">'
        for value in values
        if value not in ("PASS", ".", "") and FILTER_ID.fullmatch(value)
    ]


def split_gt() -> pl.Expr:
    """The GT of one split allele: this ALT -> 1, the reference -> 0, other ALTs -> 0, missing stays '.'."""
    gt = pl.col("gt").fill_null(".")
    separator = pl.when(gt.str.contains("|", literal=True)).then(pl.lit("|")).otherwise(pl.lit("/"))
    alleles = gt.str.replace_all("|", "/", literal=True).str.split("/")
    me = pl.col("alt_index").cast(pl.String).fill_null("-1")
    # The allele index travels as the list's first item, so list.eval can compare every allele to it.
    recoded = pl.concat_list(me, alleles).list.eval(
        pl.when(pl.element() == ".")
        .then(pl.lit("."))
        .when(pl.element() == pl.element().first())
        .then(pl.lit("1"))
        .otherwise(pl.lit("0"))
        .slice(1)
    )
    return recoded.list.join(separator)


def write_annotated_vcf(
    annotated: Path,
    output: Path,
    *,
    sample: str,
    reference_columns: list[str],
    header_contigs: dict[str, int],
    contig_naming: str,
    source: str,
) -> int:
    """Write `output` (bgzipped VCF) and `output.tbi`; return the records written.

    Records are written in the input VCF's order (`record`, `alt_index`); an input that was not
    position-sorted is sorted by bcftools before indexing.
    """
    import pysam
    import pysam.bcftools
    from pysam.libcbgzf import BGZFile

    frame = pl.scan_parquet(annotated)
    schema = frame.collect_schema()
    fields = info_fields(schema, [c for c in reference_columns if c in schema])
    names = {normalize_chrom(name): name for name in header_contigs}
    prefix = "chr" if contig_naming == "chr" else ""
    present = frame.select(pl.col("chrom").unique(maintain_order=True)).collect()["chrom"].to_list()
    for chrom in present:
        names.setdefault(chrom, prefix + ("M" if chrom == "MT" and prefix else chrom))
    info = pl.concat_str(
        [_info_value(f, schema[f.column]) for f in fields] or [pl.lit(None, dtype=pl.String)],
        separator=";",
        ignore_nulls=True,
    )
    lines = frame.sort("record", "alt_index").select(
        pl.col("chrom").replace_strict(names, return_dtype=pl.String).alias("CHROM"),
        pl.col("start").alias("POS"),
        _record_id().alias("ID"),
        pl.col("ref").alias("REF"),
        pl.col("alt").fill_null(".").alias("ALT"),
        (pl.col("qual").cast(pl.String).fill_null(".") if "qual" in schema else pl.lit(".")).alias("QUAL"),
        (pl.col("filter").fill_null(".") if "filter" in schema else pl.lit(".")).alias("FILTER"),
        pl.when(info == "").then(pl.lit(".")).otherwise(info.fill_null(".")).alias("INFO"),
        pl.lit("GT").alias("FORMAT"),
        split_gt().alias("SAMPLE"),
    )
    header = [
        "##fileformat=VCFv4.3",
        f"##source=just-dna-lite Ensembl annotation of {source}",
        *filter_lines(frame, schema),
        *(
            f"##contig=<ID={names[c]}{f',length={header_contigs[names[c]]}' if names[c] in header_contigs else ''}>"
            for c in names
        ),
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype of this allele (multi-allelic records split)">',
        *(f.header() for f in fields),
        "#" + "\t".join(["CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", sample]),
    ]
    try:
        with BGZFile(str(output), "wb") as handle:  # type: ignore[call-arg]
            handle.write(("\n".join(header) + "\n").encode())
            # BGZFile is a binary file object; the stubs do not say so.
            lines.sink_csv(handle, separator="\t", include_header=False, quote_style="never")  # type: ignore[call-overload]
        try:
            pysam.tabix_index(str(output), preset="vcf", force=True)
        except OSError:  # not sorted by position: let bcftools sort it, then index
            unsorted = output.with_name(output.name + ".unsorted")
            output.rename(unsorted)
            pysam.bcftools.sort(
                str(unsorted), "-Oz", "-o", str(output), "-T", str(output.parent), catch_stdout=False
            )
            unsorted.unlink()
            pysam.tabix_index(str(output), preset="vcf", force=True)
    except (OSError, pysam.utils.SamtoolsError) as exc:
        raise EnsemblError(f"could not write the annotated VCF: {exc}") from exc
    return int(frame.select(pl.len()).collect().item())

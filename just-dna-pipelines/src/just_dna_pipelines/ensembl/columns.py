"""Which columns an annotated table has, and what the reference's columns are called in it (both engines).

Output, one row per sample allele (multi-allelic records split; rows in no particular order, `record` and
`alt_index` give the VCF's): chrom, start, ref, alt, rsid, the other
normalized call columns, `record` (0-based row of the normalized calls) and `alt_index` (1-based ALT
position), then the reference's columns: `ensembl_id` (its `id`) and every other column it has, renamed
`ensembl_{name}` where the name is already taken by a sample column.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from just_dna_pipelines.ensembl.layout import ID_COLUMN, KEY_COLUMNS
from just_dna_pipelines.errors import EnsemblError

# Normalized columns not carried: the split `alt` replaces `alts`; gVCF reference blocks are not variants.
DROPPED_SAMPLE_COLUMNS = ("alts", "ref_block", "end")
LEAD_COLUMNS = ("chrom", "start", "ref", "alt", "rsid")
ROW_COLUMNS = ("record", "alt_index")
ENSEMBL_ID = "ensembl_id"
# ALT alleles that mean "any other allele" in gVCFs: not variants, never in the reference.
SYMBOLIC_ALTS = ("<NON_REF>", "<*>")
# A reference id that is an rsID (among duplicates of a key, an rsID wins: it is what the fill needs).
RSID_ONLY = "^rs[0-9]+$"
# Among rsIDs the lowest number wins (rs94 before rs104, as numbers, not text); 18 digits fit in 64 bits.
RS_NUMBER = "^rs([0-9]{1,18})$"


@dataclass(frozen=True)
class ColumnPlan:
    """The sample columns kept (in output order) and the reference columns carried, old name -> new name."""

    sample: list[str]
    reference: dict[str, str]

    @property
    def output(self) -> list[str]:
        """Every output column in order."""
        return [*LEAD_COLUMNS, *self.sample, *ROW_COLUMNS, *self.reference.values()]


# A contig file's footer is megabytes and it has tens of columns; parsing a footer takes ~23 times its size in memory
# (200,000 columns in 36 MB: 660 MB), and every reference column is carried into the output.
MAX_FOOTER_BYTES = 64 << 20
MAX_REFERENCE_COLUMNS = 1_000


def check_footer(path: Path) -> None:
    """EnsemblError when a reference file has no Parquet tail or a footer too large to parse."""
    from just_dna_pipelines.io.parquet_footer import footer_length

    try:
        length = footer_length(path)
    except OSError as exc:
        raise EnsemblError(f"{path.name} cannot be read ({exc.strerror or exc})") from exc
    if length is None:
        raise EnsemblError(f"{path.name} is not a readable Parquet file (no Parquet footer)")
    if length > MAX_FOOTER_BYTES:
        raise EnsemblError(
            f"{path.name} has a Parquet footer of {length:,} bytes (this version reads up to {MAX_FOOTER_BYTES:,})"
        )


def parquet_columns(path: Path) -> list[str]:
    """Column names of a Parquet file from its footer."""
    import pyarrow.parquet as pq  # here: a module run imports this module for its names, not for PyArrow

    return list(pq.read_schema(path).names)


def _key_type_problem(name: str, kind: Any) -> str | None:
    """Why a known column of this Arrow type cannot be joined on (None: it can)."""
    import pyarrow as pa

    if pa.types.is_null(kind):
        return None
    value = kind.value_type if pa.types.is_dictionary(kind) else kind
    text = pa.types.is_string(value) or pa.types.is_large_string(value) or pa.types.is_string_view(value)
    if name == ID_COLUMN and not text:  # matched as text (rsID patterns)
        return "not text"
    if pa.types.is_nested(kind) or pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return "not a single value a row"
    return None


def reference_columns(files: Iterable[Path]) -> list[str]:
    """The union of the reference files' columns in first-seen order; EnsemblError if a known column is missing
    or of a type the join cannot use (an `alt` list or an integer `id` failed the engines with a multi-line error)."""
    import pyarrow.parquet as pq

    seen: dict[str, None] = {}
    for path in files:
        check_footer(path)
        schema = pq.read_schema(path)
        names = list(schema.names)
        if len(names) > MAX_REFERENCE_COLUMNS:
            raise EnsemblError(
                f"{path.name} has {len(names):,} columns (this version carries up to {MAX_REFERENCE_COLUMNS:,})"
            )
        missing = [c for c in (*KEY_COLUMNS, ID_COLUMN) if c not in names]
        if missing:
            raise EnsemblError(f"{path.name} lacks the column(s) {', '.join(missing)} of the Ensembl layout")
        for name in (*KEY_COLUMNS, ID_COLUMN):
            if names.count(name) > 1:
                raise EnsemblError(
                    f"{path.name} has more than one {name} column; not an Ensembl reference file"
                )
            kind = schema.field(name).type
            if (problem := _key_type_problem(name, kind)) is not None:
                raise EnsemblError(
                    f"{path.name}'s {name} column is {kind}, {problem}; not an Ensembl reference file"
                )
        seen.update(dict.fromkeys(names))
    return list(seen)


def plan_columns(calls_columns: list[str], ref_columns: list[str]) -> ColumnPlan:
    """Decide output columns: sample columns first, then the reference's, renamed only on a clash."""
    sample = [c for c in calls_columns if c not in (*LEAD_COLUMNS, *DROPPED_SAMPLE_COLUMNS, *ROW_COLUMNS)]
    taken = {*calls_columns, *LEAD_COLUMNS, *ROW_COLUMNS, ENSEMBL_ID}
    reference = {ID_COLUMN: ENSEMBL_ID}
    for name in ref_columns:
        if name in (*KEY_COLUMNS, ID_COLUMN) or not name.strip():
            continue  # a nameless column cannot be carried under any name
        reference[name] = f"ensembl_{name}" if name in taken else name
    return ColumnPlan(sample, reference)

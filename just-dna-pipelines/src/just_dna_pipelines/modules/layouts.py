"""The layouts a module folder comes in, what this version can use of each, and reading weights whatever the layout.

- Ours and the hub's 0.5 layout: `weights.parquet`, `annotations.parquet`, `studies.parquet` with the
  contract columns (`modules.schema`), plus our `module.json`.
- The hub's newer layout: the same tables with many more columns (the weights table has ~39; `alt` as a
  string, `start` as an unsigned integer, sometimes the genotype spelled as text) and a `manifest.json`.
- Modules without a weights table (e.g. a pharmacogenomics table instead): listed, but not scored here.

Nothing here raises on a strange folder: what cannot be used is said in words (`ModuleLayout.problems`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa

from just_dna_pipelines.io.parquet_footer import footer_length
from just_dna_pipelines.modules.schema import WEIGHTS_SCHEMA

WEIGHTS_FILE = "weights.parquet"
USED_TABLES = ("weights.parquet", "annotations.parquet", "studies.parquet")
META_FILES = ("module.json", "manifest.json")

# Other spellings of the weights columns the matcher needs, seen in module tables.
ALIASES: dict[str, tuple[str, ...]] = {
    "rsid": ("rsID", "rs_id", "snp", "variant_id"),
    "chrom": ("chr", "chromosome"),
    "start": ("pos", "position"),
    "ref": ("ref_allele",),
    "genotype": ("genotypes",),
    "weight": ("score",),
}


@dataclass(frozen=True)
class ModuleLayout:
    """What a module folder holds and what of it this version can use."""

    name: str
    tables: tuple[str, ...]  # every Parquet file in the folder
    problems: tuple[str, ...]  # why the module cannot be run (empty: it can)
    notes: tuple[str, ...]  # what is ignored, for the catalog
    meta: dict

    @property
    def usable(self) -> bool:
        """Whether the module can be matched against a sample."""
        return not self.problems


MAX_META_BYTES = 1 << 20


def read_meta_file(path: Path) -> dict:
    """One metadata file's JSON object, read within bounds; {} when it is absent, unreadable or not an object."""
    if not path.is_file():  # a regular file (a FIFO would block the reader for good)
        return {}
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_META_BYTES + 1)
        if len(data) > MAX_META_BYTES:
            return {}  # a module's description is kilobytes; hundreds of megabytes are not read
        meta = json.loads(data.decode("utf-8"))
    # deep nesting raised RecursionError out of every module listing
    except (OSError, ValueError, RecursionError):
        return {}
    return meta if isinstance(meta, dict) else {}


def read_meta(folder: Path) -> dict:
    """module.json (ours) or manifest.json (the hub's newer layout), merged; {} when neither is readable."""
    merged: dict = {}
    for name in reversed(META_FILES):  # module.json wins where both say something
        merged.update(read_meta_file(folder / name))
    return merged


# Module tables have kilobytes of footer and up to a few thousand rows of some 40 columns. Past these bounds a table is
# not read: a 0.2 MB annotations table of 20 M rows took the report 52 s and 11 GB, and parsing a footer costs ~23
# times its size in memory (a 36 MB weights table of 200,000 columns: 660 MB to list the modules).
MAX_FOOTER_BYTES = 4 << 20
MAX_TABLE_COLUMNS = 1_000
# a table is read whole into memory (~600 bytes a weights row once matched): a 6.5 MB Parquet of 10 M rows took 6.1 GB
MAX_TABLE_ROWS = 1_000_000


def table_footer(path: Path) -> tuple[pa.Schema, int] | str:
    """A Parquet file's schema and row count (its footer, read once), or why it cannot be read."""
    if not path.is_file():  # a FIFO or a device named like a table blocked or flooded the reader
        return "unreadable (not a regular file)"
    try:
        if (length := footer_length(path)) is None:
            return "unreadable (not a Parquet file)"
        if length > MAX_FOOTER_BYTES:
            return f"unreadable ({_footer_too_large(length)})"
        # PyArrow, not Polars: the run worker inspects modules, and a process that used Polars' Parquet reader
        # forks children whose own reads never return (tests/runs/test_worker_fork.py)
        import pyarrow.parquet as pq

        metadata = pq.read_metadata(path)
        return metadata.schema.to_arrow_schema(), int(metadata.num_rows)
    except Exception as exc:  # any damage to a downloaded file is a catalog note, not a crash
        return f"unreadable ({str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__})"


def _footer_too_large(length: int) -> str:
    return f"a Parquet footer of {length:,} bytes; this version reads up to {MAX_FOOTER_BYTES:,}"


def oversized(footer: tuple[pa.Schema, int]) -> str | None:
    """Why a table is too large to read whole (`has ... rows` / `has ... columns`), or None."""
    schema, rows = footer
    if rows > MAX_TABLE_ROWS:
        return f"has {rows:,} rows (this version reads up to {MAX_TABLE_ROWS:,})"
    if len(schema) > MAX_TABLE_COLUMNS:
        return f"has {len(schema):,} columns (this version reads up to {MAX_TABLE_COLUMNS:,})"
    return None


def table_bound(path: Path) -> str | None:
    """Why an optional module table (annotations, studies) must not be read whole: too large, or a footer too large
    to parse; None when it may be read (a merely damaged table is left to its reader, which notes it)."""
    try:
        length = footer_length(path) if path.is_file() else None
    except OSError:
        return None
    if length is not None and length > MAX_FOOTER_BYTES:
        return f"has {_footer_too_large(length)}"
    footer = table_footer(path)
    return None if isinstance(footer, str) else oversized(footer)


def _present(columns: list[str], name: str) -> bool:
    return name in columns or any(alias in columns for alias in ALIASES.get(name, ()))


def _listlike(kind: pa.DataType) -> bool:
    return bool(pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind))


def _nested(kind: pa.DataType) -> bool:
    return bool(_listlike(kind) or pa.types.is_struct(kind) or pa.types.is_map(kind))


def _fits(name: str, kind: pa.DataType) -> bool:
    """Whether a weights column of this Arrow type becomes the contract's column (`modules.schema`)."""
    if pa.types.is_null(kind):
        return True
    if name in ("genotype", "alts"):  # a list of alleles (a genotype may be spelled as text)
        if name == "genotype" and (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            return True
        return _listlike(kind) and not _nested(kind.value_type)
    if name in ("start", "weight", "priority"):
        return not (
            _nested(kind)
            or pa.types.is_binary(kind)
            or pa.types.is_large_binary(kind)
            or pa.types.is_dictionary(kind)  # Polars' categorical: not cast to a number
        )
    return not _listlike(kind) and not pa.types.is_map(kind)


def _column_problems(schema: pa.Schema) -> list[str]:
    """The weights columns whose type cannot become the contract's: an integer genotype column failed every run
    from the source (modules not chosen included) with only Polars' "casting from Int32 to list type"."""
    twice = sorted({c for c in schema.names if schema.names.count(c) > 1})
    if twice:  # Polars reads no such table
        return [f"the weights table has more than one column named {twice[0]}"]
    problems = []
    for name in WEIGHTS_SCHEMA:
        found = next((c for c in (name, *ALIASES.get(name, ())) if c in schema.names), None)
        if found is not None and not _fits(name, kind := schema.field(found).type):
            problems.append(
                f"the weights table's {found} column is {kind}, which this version cannot read as {name}"
            )
    return problems


# A module's name is its folder's: part of asset keys and file names, so nothing a Dagster name may not hold. A
# folder named "a b" made the code location fail to load, so no run of any module could start.
MODULE_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")


def inspect_module(folder: Path) -> ModuleLayout:
    """Look at a module folder (table footers and metadata only) and say what can be used."""
    tables = tuple(sorted(p.name for p in folder.glob("*.parquet")))
    problems: list[str] = []
    notes: list[str] = []
    if not MODULE_NAME.fullmatch(folder.name):  # it names the module's Dagster assets, which take no other
        problems.append("its folder name is not a module name (letters, digits and _ only)")
    if WEIGHTS_FILE not in tables:
        others = ", ".join(tables) or "no tables"
        problems.append(f"no weights table ({others}): this version scores weights tables only")
    else:
        footer = table_footer(folder / WEIGHTS_FILE)
        if isinstance(footer, str):
            problems.append(f"the weights table is {footer}")
        elif (too_large := oversized(footer)) is not None:
            problems.append(f"the weights table {too_large}")
        else:
            columns = footer[0].names
            problems += _column_problems(footer[0])
            if not _present(columns, "genotype"):
                problems.append("the weights table has no genotype column")
            if not _present(columns, "rsid") and not (
                _present(columns, "chrom") and _present(columns, "start")
            ):
                problems.append("the weights table has neither rsIDs nor positions")
            if not _present(columns, "weight"):
                notes.append("no weight column: every match counts as neutral")
    for table in USED_TABLES[1:]:
        if table in tables and (too_large := table_bound(folder / table)) is not None:
            problems.append(f"the {table.removesuffix('.parquet')} table {too_large}")
    unused = [t for t in tables if t not in USED_TABLES]
    if unused:
        notes.append(f"not used by this version: {', '.join(unused)}")
    return ModuleLayout(folder.name, tables, tuple(problems), tuple(notes), read_meta(folder))


def module_folders(root: Path) -> list[Path]:
    """Every module folder under `root`, usable or not: visible subfolders with a table or a manifest."""
    if not root.is_dir():
        return []
    return sorted(
        p
        for p in root.iterdir()
        if p.is_dir()
        and not p.name.startswith(".")
        and (any(p.glob("*.parquet")) or any((p / m).is_file() for m in META_FILES))
    )


def _genotype_list(column: pl.Expr) -> pl.Expr:
    """A genotype written as text (`A/G`, `A|G`, `AG`, `A G`) as the sorted allele list."""
    text = column.str.replace_all(r"[|\s,]", "/")
    split = (
        pl.when(text.str.contains("/", literal=True)).then(text.str.split("/")).otherwise(text.str.split(""))
    )
    return split.list.eval(pl.element().filter(pl.element() != "").str.to_uppercase()).list.sort()


def read_weights(path: Path) -> pl.DataFrame:
    """A weights table in any known layout, with the contract's column names and shapes (extras kept)."""
    frame = pl.read_parquet(path, glob=False)  # a local source's folder may be named with [ ] * ?
    renames = {}
    for name, aliases in ALIASES.items():
        if name not in frame.columns:
            found = next((a for a in aliases if a in frame.columns), None)
            if found is not None:
                renames[found] = name
    frame = frame.rename(renames)
    fixes = []
    if "genotype" in frame.columns and frame.schema["genotype"] == pl.String:
        fixes.append(_genotype_list(pl.col("genotype")).alias("genotype"))
    if "alts" not in frame.columns and "alt" in frame.columns and frame.schema["alt"] == pl.String:
        fixes.append(pl.col("alt").str.split(",").alias("alts"))
    return frame.with_columns(fixes) if fixes else frame

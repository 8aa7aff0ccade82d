"""Helpers every SQLite module compiler shares: reading tables, loci, curation, final checks."""

from __future__ import annotations

import csv
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from just_dna_pipelines.errors import ModuleSourceError
from just_dna_pipelines.modules.dropped import CURATION_DROP, DUPLICATE
from just_dna_pipelines.modules.genotypes import (
    Locus,
    genotype_from_letters,
    genotype_key,
    off_locus_alleles,
    state_from_weight,
)
from just_dna_pipelines.modules.schema import ANNOTATIONS_SCHEMA, STUDIES_SCHEMA, WEIGHTS_SCHEMA

Row = dict[str, Any]
RSID_PATTERN = re.compile(r"^rs\d+$")
PMID_PATTERN = re.compile(r"(?<!\d)\d{4,9}(?!\d)")
ANNOTATOR_DB = Path("longevitymap") / "longevitymap_annotator.sqlite"


@dataclass
class CompiledModule:
    """The three tables of one module plus what the compiler read, changed and dropped."""

    name: str
    sources: list[Path]
    weights: pl.DataFrame = field(default_factory=pl.DataFrame)
    annotations: pl.DataFrame = field(default_factory=pl.DataFrame)
    studies: pl.DataFrame = field(default_factory=pl.DataFrame)
    notes: list[str] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)


# A module database's tables have hundreds to a few thousand rows; a file that is not what it claims (a view in a
# table's place computing rows without end, a generated column of gigabyte blobs, millions of rows) stops here.
MAX_TABLE_ROWS = 1_000_000
MAX_VALUE_BYTES = 1 << 20  # one cell: real ones are at most a few KB of text
MAX_STEPS = 2_000_000_000  # SQLite virtual-machine steps of one read (a million-row table takes ~10^8)
_STEP_CHECK = 100_000


def read_table(db: Path, table: str) -> list[Row]:
    """All rows of a SQLite table as dicts with lower-case keys (read-only; one-line error if unreadable).

    Only a real table is read (a view of the name is refused: it runs any query), within MAX_TABLE_ROWS rows,
    MAX_VALUE_BYTES a cell and MAX_STEPS of SQLite's work.
    """
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            con.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
            steps = [0]

            def over_budget() -> bool:
                steps[0] += _STEP_CHECK
                return steps[0] > MAX_STEPS

            con.set_progress_handler(over_budget, _STEP_CHECK)
            if table != "sqlite_master":
                kind = con.execute(
                    "SELECT type FROM sqlite_master WHERE name = ? COLLATE NOCASE", (table,)
                ).fetchone()
                if kind is not None and kind[0] != "table":
                    raise ModuleSourceError(
                        f"{table!r} of {db} is a {kind[0]}, not a table; only tables are read"
                    )
            con.row_factory = sqlite3.Row
            cursor = con.execute(f'SELECT * FROM "{table}"')
            rows = cursor.fetchmany(MAX_TABLE_ROWS + 1)
        finally:
            con.close()
    except sqlite3.Error as exc:
        reason = "it takes more work than any module table" if str(exc) == "interrupted" else str(exc)
        raise ModuleSourceError(f"cannot read table {table!r} of {db}: {reason}") from exc
    if len(rows) > MAX_TABLE_ROWS:
        raise ModuleSourceError(
            f"table {table!r} of {db} has more than {MAX_TABLE_ROWS:,} rows; not a module table"
        )
    return [{str(k).lower(): r[k] for k in r.keys()} for r in rows]  # noqa: SIM118 - sqlite3.Row


def table_names(db: Path) -> set[str]:
    """Lower-case names of the tables in a SQLite file."""
    return {str(r["name"]).lower() for r in read_table(db, "sqlite_master") if r["type"] == "table"}


def clean(value: object) -> str | None:
    """A stripped string, or None for empty/NULL."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def valid_rsid(value: object) -> str | None:
    """A well-formed `rs123` id, or None."""
    text = clean(value)
    return text if text and RSID_PATTERN.match(text) else None


def parse_weight(value: object) -> float | None:
    """A weight cell (`-0.4`, `0,5`, a typographic minus) as float, or None."""
    text = clean(value)
    if text is None:
        return None
    text = text.replace(",", ".").replace("−", "-").replace("–", "-")
    try:
        return float(text)
    except ValueError:
        return None


def parse_pmids(value: object) -> list[str]:
    """PMIDs in a free-text cell (`[PMID: 123]; PMID 456;`), in order, without duplicates."""
    text = clean(value)
    if text is None:
        return []
    return list(dict.fromkeys(PMID_PATTERN.findall(text)))


def load_loci(sqlite_dir: Path) -> dict[str, Locus]:
    """GRCh38 loci by rsid from the LongevityMap annotator's `snps` table (one row per alt allele)."""
    db = sqlite_dir / ANNOTATOR_DB
    if not db.is_file():
        return {}
    grouped: dict[str, Locus] = {}
    for row in read_table(db, "snps"):
        rsid, chrom, ref, alt = (
            valid_rsid(row["rsid"]),
            clean(row["chrom"]),
            clean(row["ref"]),
            clean(row["alt"]),
        )
        if rsid is None or chrom is None or ref is None or row["pos"] is None:
            continue
        chrom = chrom.removeprefix("chr")
        known = grouped.get(rsid)
        if known is None:
            grouped[rsid] = Locus(chrom, int(row["pos"]), ref.upper(), (alt.upper(),) if alt else ())
        elif alt and alt.upper() not in known.alts:
            grouped[rsid] = Locus(known.chrom, known.start, known.ref, (*known.alts, alt.upper()))
    return grouped


def weight_row(
    rsid: str,
    genotype: list[str],
    weight: float | None,
    *,
    locus: Locus | None,
    allele_state: str | None = None,
    zygosity: str | None = None,
    priority: float | None = None,
    conclusion: str | None = None,
    gene: str | None = None,
    category: str | None = None,
    state: str | None = None,
) -> Row:
    """One weights row in the WEIGHTS_SCHEMA shape (state from the weight's sign unless given)."""
    if zygosity is None:
        zygosity = "hom" if genotype[0] == genotype[1] else "het"
    return {
        "rsid": rsid,
        "chrom": locus.chrom if locus else None,
        "start": locus.start if locus else None,
        "ref": locus.ref if locus else None,
        "alts": list(locus.alts) if locus else None,
        "genotype": genotype,
        "weight": weight,
        "state": state or state_from_weight(weight),
        "allele_state": allele_state,
        "zygosity": zygosity,
        "priority": priority,
        "conclusion": conclusion,
        "gene": gene,
        "category": category,
    }


def load_curation(path: Path) -> list[Row]:
    """Rows of a curation CSV (rsid, genotype `C/G`, field, new_value, reason)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [{k: (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(handle)]


def apply_weight_curation(module: CompiledModule, rows: list[Row], curation: list[Row]) -> list[Row]:
    """Apply `weight`/`conclusion`/`genotype`/`drop` fixes keyed by (rsid, raw genotype); note unmatched ones."""
    by_key = {(r["rsid"], genotype_key(r["genotype"])): r for r in rows}
    dropped: set[tuple[str, str]] = set()
    applied = 0
    for fix in curation:
        key = (fix["rsid"], "/".join(sorted(fix["genotype"].split("/"))))
        row = by_key.get(key)
        if row is None:
            module.notes.append(f"curation for {key[0]} {key[1]} ({fix['field']}) matched no row")
            continue
        applied += 1
        action, value = fix["field"], fix["new_value"]
        if action == "drop":
            dropped.add(key)
        elif action == "weight":
            row["weight"] = parse_weight(value)
            row["state"] = state_from_weight(row["weight"])
        elif action == "conclusion":
            row["conclusion"] = value
        elif action == "genotype":
            new = genotype_from_letters(value)
            if new is None:
                module.notes.append(f"curation for {key[0]} {key[1]} has a bad genotype {value!r}")
                continue
            row["genotype"] = new
        else:
            module.notes.append(f"curation field {action!r} for {key[0]} is unknown")
    if dropped:
        module.dropped[CURATION_DROP] += len(dropped)
    module.notes.append(f"curation: {applied} of {len(curation)} fixes applied")
    return [r for r in rows if (r["rsid"], genotype_key(r["genotype"])) not in dropped]


def finish_weights(module: CompiledModule, rows: list[Row], loci: dict[str, Locus]) -> pl.DataFrame:
    """Drop off-locus genotypes and duplicates (counted), sort, and type the weights table."""
    kept: list[Row] = []
    seen: set[tuple[str, str]] = set()
    for row in rows:
        off = off_locus_alleles(row["genotype"], loci.get(row["rsid"]))
        if off:
            module.dropped["allele not observed at the GRCh38 locus"] += 1
            module.notes.append(
                f"dropped {row['rsid']} {genotype_key(row['genotype'])}: {'/'.join(off)} not at "
                f"{row['chrom']}:{row['start']} {row['ref']}>{','.join(row['alts'] or [])}"
            )
            continue
        key = (row["rsid"], genotype_key(row["genotype"]))
        if key in seen:
            module.dropped[DUPLICATE] += 1
            continue
        seen.add(key)
        row["zygosity"] = "hom" if row["genotype"][0] == row["genotype"][1] else "het"
        kept.append(row)
    return pl.DataFrame(kept, schema=WEIGHTS_SCHEMA, orient="row").sort(["rsid", "genotype"])


def annotations_frame(rows: list[Row]) -> pl.DataFrame:
    """The annotations table: one row per rsid, first mention wins."""
    unique = list({r["rsid"]: r for r in reversed(rows)}.values())[::-1]
    return pl.DataFrame(unique, schema=ANNOTATIONS_SCHEMA, orient="row").sort("rsid")


def studies_frame(rows: list[Row]) -> pl.DataFrame:
    """The studies table: every distinct study record in source order; only word-for-word repeats collapse."""
    # One paper can hold several results for one rsid (another cohort, another outcome, significant or
    # not): keyed by (rsid, pmid) alone, all but the first would be lost.
    unique = list(dict.fromkeys(tuple(row.get(name) for name in STUDIES_SCHEMA) for row in rows))
    return pl.DataFrame(unique, schema=STUDIES_SCHEMA, orient="row")

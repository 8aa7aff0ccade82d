"""Tell which DNA-test raw layout (and vendor, and claimed genome build) a text file is, from its first lines.

Layouts (what the vendors ship; the vendor itself is read from the comment lines):
- "rsid_genotype": tab-separated `rsid chromosome position genotype`, the column line commented
  (`# rsid ...`): 23andMe (v2-v5), LivingDNA.
- "rsid_allele_pair": tab-separated `rsid chromosome position allele1 allele2` after `#` comments: AncestryDNA.
- "csv_result": quoted CSV `RSID,CHROMOSOME,POSITION,RESULT`: MyHeritage (with `#` comments), FamilyTreeDNA.

No field of these layouts holds a separator, so a row is split on every separator and each field stripped of
blanks and quotes: MyHeritage's "extra-quoted" rows (`"rs1"",""1"",""5"",""AG"`) then read as its plain ones.
AncestryDNA rows may carry runs of tabs between columns (an empty field after the rsID or the chromosome, a
trailing tab): apriha/snps reads its files splitting on any run of whitespace, with tests of exactly these rows
(tests/input/ancestry_multi_sep.txt, test_read_ancestry_extra_tab). Every field of that layout holds a value (a
no-call is `0 0`), so an empty field is never one: a row is its non-empty fields, and a row without exactly five
is refused (raw_normalize), never shifted into the wrong columns.
A repeat of the file's own uncommented column line (FamilyTreeDNA's download is two files concatenated) is not
a row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from just_dna_pipelines.io.raw_open import RawInputError

PEEK_LINES = 500
LAYOUT_COLUMNS = {
    "rsid_genotype": ("rsid", "chromosome", "position", "genotype"),
    "rsid_allele_pair": ("rsid", "chromosome", "position", "allele1", "allele2"),
    "csv_result": ("rsid", "chromosome", "position", "result"),
}
VENDOR_MARKS = (
    ("23andMe", re.compile(r"23andme", re.IGNORECASE)),
    ("AncestryDNA", re.compile(r"ancestry", re.IGNORECASE)),
    ("MyHeritage", re.compile(r"myheritage", re.IGNORECASE)),
    ("LivingDNA", re.compile(r"living\s*dna", re.IGNORECASE)),
    ("FamilyTreeDNA", re.compile(r"family\s*tree\s*dna|ftdna", re.IGNORECASE)),
)
BUILD_MARKS = (
    ("GRCh38", re.compile(r"\bbuild\s*38\b|grch38|\bhg38\b", re.IGNORECASE)),
    ("GRCh37", re.compile(r"\bbuild\s*37(\.\d+)?\b|grch37|\bhg19\b|\bb37\b", re.IGNORECASE)),
    ("NCBI36", re.compile(r"\bbuild\s*36\b|ncbi36|\bhg18\b", re.IGNORECASE)),
)
DATA_LINE = re.compile(r"^\S+\t\S+\t\S+\t\S+$")
FIELD_STRIP = ' \t"'  # what surrounds a field's value (blanks, any number of quotes)
SEPARATOR_RUN_LAYOUTS = ("rsid_allele_pair",)


@dataclass(frozen=True)
class RawLayout:
    """How to read a DNA-test raw file: its layout, where the data starts, and what its comments claim."""

    layout: str
    vendor: str  # "23andMe", "AncestryDNA", "MyHeritage", "FamilyTreeDNA", "LivingDNA" or "unknown"
    data_start: int  # lines before the first data line
    build_claim: str | None  # the build the comments name ("GRCh37", "GRCh38", "NCBI36"), if exactly one
    column_fields: tuple[str, ...] | None = None  # the uncommented column line's fields: a repeat is skipped
    warnings: list[str] = field(default_factory=list)

    @property
    def columns(self) -> tuple[str, ...]:
        """The layout's column names, in file order."""
        return LAYOUT_COLUMNS[self.layout]

    @property
    def separator(self) -> str:
        """The column separator."""
        return "," if self.layout == "csv_result" else "\t"

    @property
    def separator_runs(self) -> bool:
        """Whether a run of separators is one (AncestryDNA's rows; the module docstring says why)."""
        return self.layout in SEPARATOR_RUN_LAYOUTS


def no_rows_error(display_name: str) -> RawInputError:
    """The one message for a raw file with a column line but not a single data row."""
    return RawInputError(f"{display_name} has a column line but no genotype rows")


def _fields(line: str, separator: str, runs: bool = False) -> tuple[str, ...]:
    """A line's fields as the reader takes them (split on every separator, blanks and quotes stripped; with
    `runs`, empty fields dropped)."""
    fields = tuple(f.strip(FIELD_STRIP) for f in line.split(separator))
    return tuple(f for f in fields if f) if runs else fields


def _layout_of_column_line(line: str) -> str | None:
    """The layout whose column line this is (comment mark, case and quotes ignored), or None."""
    text = line.lstrip("#").strip()
    for layout, columns in LAYOUT_COLUMNS.items():
        separator = "," if layout == "csv_result" else "\t"
        fields = _fields(text, separator, layout in SEPARATOR_RUN_LAYOUTS)
        if tuple(f.lower() for f in fields) == columns:
            return layout
    return None


def _has_data_row(lines: Iterable[str], layout: RawLayout) -> bool:
    """Whether a data row follows (blank lines, comments and a repeated column line are not rows); reads no
    further than the first one."""
    for raw in lines:
        line = raw.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        if _fields(line, layout.separator, layout.separator_runs) != layout.column_fields:
            return True
    return False


def vendor_from(comments: list[str], layout: str) -> str:
    """The vendor the comments name; a bare quoted CSV is FamilyTreeDNA's; else "unknown"."""
    text = "\n".join(comments)
    for vendor, mark in VENDOR_MARKS:
        if mark.search(text):
            return vendor
    return "FamilyTreeDNA" if layout == "csv_result" and not comments else "unknown"


def build_claim_from(comments: list[str]) -> tuple[str | None, list[str]]:
    """The one build the comments name, or None (with a warning when they name several)."""
    text = "\n".join(comments)
    named = [build for build, mark in BUILD_MARKS if mark.search(text)]
    if len(named) > 1:
        return None, [f"the file's comments name several genome builds ({', '.join(named)})"]
    return (named[0] if named else None), []


def detect_layout(text_path: Path, display_name: str) -> RawLayout:
    """Read the first lines of the decompressed text (up to the first data row) and tell its layout;
    RawInputError when it is none of them or no data row follows its column line."""
    comments: list[str] = []
    with text_path.open("r", encoding="utf-8", errors="replace") as handle:
        for number, raw in enumerate(handle):
            if number >= PEEK_LINES:
                break
            line = raw.rstrip("\n")
            if not line.strip():
                comments.append(line)
                continue
            layout = _layout_of_column_line(line)
            if line.startswith("#") and layout is None:
                comments.append(line)
                continue
            if layout is not None:
                data_start, row_seen = number + 1, False
            elif DATA_LINE.match(line) and line.lower().startswith(("rs", "i")):
                # a 23andMe-style file without its column line
                layout, data_start, row_seen = "rsid_genotype", number, True
            else:
                break
            build, warnings = build_claim_from(comments)
            found = RawLayout(layout, vendor_from(comments, layout), data_start, build, warnings=warnings)
            if not row_seen:
                if not line.startswith("#"):
                    found = replace(found, column_fields=_fields(line, found.separator, found.separator_runs))
                if not _has_data_row(handle, found):
                    raise no_rows_error(display_name)
            return found
    raise RawInputError(
        f"{display_name} is not a VCF or a DNA-test raw file this app reads "
        "(23andMe, AncestryDNA, MyHeritage, FamilyTreeDNA, LivingDNA)"
    )

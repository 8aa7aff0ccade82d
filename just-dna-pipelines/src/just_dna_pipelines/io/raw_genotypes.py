"""Recognise a consumer DNA-test raw file (23andMe, AncestryDNA, FTDNA, MyHeritage) offered as a VCF."""

from __future__ import annotations

import re

# A data row: rsid (or a 23andMe internal id), chromosome, position, then one or two allele fields.
RAW_ROW = re.compile(
    r"^(rs|i)\d+[\t,](chr)?[0-9XYMT]{1,2}[\t,]\d+[\t,][ACGTDI0\-]{1,2}([\t,][ACGTDI0\-])?$", re.IGNORECASE
)
COLUMN_WORDS = ("rsid", "chromosome", "position")


def looks_like_raw_genotypes(comment_lines: list[str], first_row: str | None) -> bool:
    """Whether the leading comment lines and the first row have the shape of a consumer raw genotype file."""
    rows = [
        line.lstrip("#").strip().replace('"', "").lower() for line in [*comment_lines[-3:], first_row or ""]
    ]
    if any(all(word in row for word in COLUMN_WORDS) for row in rows):
        return True
    return bool(first_row and RAW_ROW.match(first_row.replace('"', "").strip()))

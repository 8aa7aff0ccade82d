"""Inline VCF factories for the VCF-reading tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

GT_LINE = '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
COLUMNS = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"]

MakeVcf = Callable[..., Path]


@pytest.fixture
def make_vcf(tmp_path: Path) -> MakeVcf:
    """Write `in.vcf` (or `name`) with the samples and records; record fields are space-separated for reading."""

    def make(samples: list[str], records: list[str], meta: str = GT_LINE, name: str = "in.vcf") -> Path:
        path = tmp_path / name
        body = "".join("\t".join(record.split()) + "\n" for record in records)
        path.write_text("##fileformat=VCFv4.2\n" + meta + "\t".join([*COLUMNS, *samples]) + "\n" + body)
        return path

    return make

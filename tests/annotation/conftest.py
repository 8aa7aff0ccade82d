"""Tiny inline VCFs and modules for matcher tests."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from just_dna_pipelines.io.vcf_normalize import normalize_vcf

HEADER = """##fileformat=VCFv4.2
##reference=GRCh38
##contig=<ID=chr1,length=248956422>
##contig=<ID=chrX,length=156040895>
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1
"""


def write_vcf(path: Path, records: list[str], header: str = HEADER) -> Path:
    """Write a VCF from tab-joined record lines (fields separated by spaces for readability)."""
    path.write_text(header + "".join("\t".join(r.split()) + "\n" for r in records))
    return path


def write_module(root: Path, name: str, rows: list[dict]) -> Path:
    """Write a module folder with a weights.parquet from row dicts."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    defaults = {
        "chrom": None,
        "start": None,
        "ref": None,
        "state": None,
        "priority": None,
        "conclusion": "",
        "gene": None,
        "category": None,
    }
    frame = pl.DataFrame(
        [defaults | row for row in rows],
        schema_overrides={
            "start": pl.Int64,
            "chrom": pl.String,
            "ref": pl.String,
            "priority": pl.Float64,
            "gene": pl.String,
            "category": pl.String,
            "state": pl.String,
        },
    )
    frame.write_parquet(folder / "weights.parquet")
    return root


@pytest.fixture
def normalize(tmp_path: Path):
    """Normalize inline VCF records (call it); `.write_module` writes an inline module."""

    class Normalizer:
        write_module = staticmethod(write_module)

        def __call__(self, records: list[str], header: str = HEADER, **kwargs):
            vcf = write_vcf(tmp_path / "in.vcf", records, header)
            return normalize_vcf(vcf, tmp_path / "calls.parquet", **kwargs)

    return Normalizer()

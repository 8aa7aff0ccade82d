"""Damaged records (too few or too many columns, no position) are counted: a few are skipped, many refuse."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from just_dna_pipelines import service
from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.io.vcf_normalize import normalize_vcf

HEADER = (
    "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=248956422>\n"
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
)


def write(path: Path, good: int, damaged: list[str], blank_lines: int = 0) -> Path:
    """`good` well-formed records, then the damaged lines, then blank lines (which are not records)."""
    lines = [f"chr1\t{1000 + i}\t.\tA\tG\t50\tPASS\t.\tGT\t0/1" for i in range(good)]
    path.write_text(HEADER + "\n".join([*lines, *damaged]) + "\n" + "\n" * blank_lines)
    return path


DAMAGED = [
    "chr1\t5000\t.\tA",  # cut to 4 columns
    "chr1\tfive\t.\tA\tG\t50\tPASS\t.\tGT\t0/1",  # no usable position
    "chr1\t5002\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\t1/1",  # a column too many
]


def test_a_few_damaged_records_are_skipped_and_counted(tmp_path: Path) -> None:
    path = write(tmp_path / "in.vcf", 400, DAMAGED, blank_lines=2)
    result = normalize_vcf(path, tmp_path / "out.parquet")
    assert (result.records, result.malformed_records) == (400, 3)
    assert pl.read_parquet(result.output).height == 400
    assert "3 damaged records of 403 (wrong number of columns or no position) were skipped" in result.warnings
    facts = service.inspect_vcf(path)
    assert (facts.record_count, facts.malformed_records) == (400, 3)
    assert any("3 damaged records of 403" in warning for warning in facts.warnings)


def test_many_damaged_records_refuse_the_file_and_leave_nothing(tmp_path: Path) -> None:
    path = write(tmp_path / "in.vcf", 20, DAMAGED[:1])
    out = tmp_path / "out" / "variants.parquet"
    message = "in.vcf has 1 damaged records of 21 (wrong number of columns or no position), more than 1%"
    with pytest.raises(VcfError, match=message.replace("(", r"\(").replace(")", r"\)")):
        normalize_vcf(path, out)
    assert not out.parent.exists() or not any(out.parent.iterdir())
    with pytest.raises(VcfError, match="damaged records of 21"):
        service.inspect_vcf(path)


def test_blank_lines_are_not_damage(tmp_path: Path) -> None:
    path = write(tmp_path / "in.vcf", 3, [], blank_lines=3)
    result = normalize_vcf(path, tmp_path / "out.parquet")
    assert (result.records, result.malformed_records, result.warnings) == (3, 0, [])


def test_a_gzip_and_a_bcf_count_damage_the_same_way(tmp_path: Path) -> None:
    import pysam

    text = write(tmp_path / "in.vcf", 400, DAMAGED[:1])
    bgz = tmp_path / "in.vcf.gz"
    pysam.tabix_compress(str(text), str(bgz))
    result = normalize_vcf(bgz, tmp_path / "a.parquet")
    assert (result.records, result.malformed_records) == (400, 1)


def test_windows_line_endings_are_read(tmp_path: Path) -> None:
    path = tmp_path / "crlf.vcf"
    path.write_bytes(
        (HEADER + "chr1\t10\t.\tA\tG\t.\t.\t.\tGT\t0/1\nchr1\t11\t.\tA\tG\t.\t.\t.\tGT\t1/1\n\n")
        .replace("\n", "\r\n")
        .encode()
    )
    facts = service.inspect_vcf(path)
    result = normalize_vcf(path, tmp_path / "out.parquet")
    assert (facts.samples, facts.record_count, facts.malformed_records) == (["S1"], 2, 0)
    assert pl.read_parquet(result.output)["gt"].to_list() == ["0/1", "1/1"]

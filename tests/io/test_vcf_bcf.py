"""BCF input within bounds: the header and every record length are checked before htslib holds them."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import pysam
import pytest

from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.io.vcf_bcf import bcf_header_text, check_bcf_bounds
from just_dna_pipelines.io.vcf_header import read_vcf_header
from just_dna_pipelines.io.vcf_limits import MIB, ReadLimits

ROOMY = ReadLimits(max_decompressed_bytes=1 << 30, max_line_bytes=MIB)


def test_records_are_walked_and_counted(genomes: Path) -> None:
    assert check_bcf_bounds(genomes / "pg-hg38.bcf", ROOMY) == 58_447
    assert check_bcf_bounds(genomes / "pg-hg38.bcf", ROOMY, max_records=10) == 10


def test_the_header_is_read_without_htslib(genomes: Path) -> None:
    text = bcf_header_text(genomes / "pg-hg38.bcf", ROOMY)
    with pysam.VariantFile(str(genomes / "pg-hg38.bcf")) as bcf:
        assert text.rstrip("\n").split("\n")[-1] == str(bcf.header).rstrip("\n").split("\n")[-1]
    assert read_vcf_header(genomes / "pg-hg38.bcf").samples == ["NA12878"]


def test_a_record_beyond_the_line_limit_is_refused(genomes: Path) -> None:
    with pytest.raises(VcfError, match=r"pg-hg38\.bcf has a line longer than"):
        check_bcf_bounds(genomes / "pg-hg38.bcf", ReadLimits(1 << 30, 64))


def test_a_cut_bcf_is_refused(tmp_path: Path, genomes: Path) -> None:
    cut = tmp_path / "cut.bcf"
    cut.write_bytes((genomes / "pg-hg38.bcf").read_bytes()[:300_000])
    with pytest.raises(VcfError, match=r"cut\.bcf is"):
        check_bcf_bounds(cut, ROOMY)


def test_a_huge_declared_header_is_refused_before_reading_it(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.bcf"
    bomb.write_bytes(gzip.compress(b"BCF\2\2" + struct.pack("<I", 1 << 31) + b"##fileformat=VCFv4.2\n"))
    with pytest.raises(VcfError, match=r"^bomb\.bcf has a header larger than 64 MB$"):
        read_vcf_header(bomb)


def _wide_bcf(path: Path, samples: int) -> Path:
    """A BCF of three records whose genotypes (one byte an allele) take `samples` * 2 bytes, and as text twice
    that ("0|1" and a tab a person)."""
    header = pysam.VariantHeader()
    header.add_line("##contig=<ID=chr1,length=1000000>")
    header.add_line('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    for index in range(samples):
        header.add_sample(f"S{index}")
    with pysam.VariantFile(str(path), "wb", header=header) as out:
        for position in (100, 200, 300):
            record = out.new_record(contig="chr1", start=position - 1, alleles=("A", "G"))
            for sample in record.samples.values():
                sample["GT"] = (0, 1)
                sample.phased = True
            out.write(record)
    return path


def test_a_bcf_whose_records_become_lines_beyond_the_limit_as_text_is_refused(tmp_path: Path) -> None:
    """The binary record lengths were the only bound: a BCF's text (several times larger) was read whatever its
    line lengths (14 MB records became 70 MB lines)."""
    from just_dna_pipelines.io.vcf_count import count_records

    bcf = _wide_bcf(tmp_path / "wide.bcf", 2_000)
    limits = ReadLimits(max_decompressed_bytes=1 << 30, max_line_bytes=6_000)
    assert check_bcf_bounds(bcf, limits) == 3  # ~4 KB a record in binary
    with pytest.raises(VcfError, match=r"^wide\.bcf has a line longer than"):
        count_records(read_vcf_header(bcf), limits)  # ~8 KB a line as text
    assert count_records(read_vcf_header(bcf), ROOMY).records == 3

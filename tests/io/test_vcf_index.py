"""An index is a shortcut, never a reason to refuse: indexes without counts or damaged ones are rebuilt.

Each test runs both site readers: the index way, and the one-pass scan that needs no index at all.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import polars as pl
import pysam
import pytest

from just_dna_pipelines.io.vcf_index import index_path, indexed_contig_counts
from just_dna_pipelines.io.vcf_normalize import normalize_vcf

SITES = pl.DataFrame({"chrom": ["21", "21", "21", "1"], "start": [9_412_503, 28_577_774, 48_099_782, 100]})


def copy_with_index(source: Path, folder: Path, index: bytes | None = None) -> Path:
    """The VCF and then its index (so the index is the newer file), or `index` as the index's bytes."""
    vcf = folder / source.name
    shutil.copy(source, vcf)
    tbi = vcf.with_name(vcf.name + ".tbi")
    if index is None:
        shutil.copy(source.with_name(source.name + ".tbi"), tbi)
    else:
        tbi.write_bytes(index)
    return vcf


READERS = pytest.mark.parametrize("reader", ["index", "scan"])


def assert_site_read_equals_full_read(vcf: Path, tmp_path: Path, reader: str) -> None:
    by_sites = normalize_vcf(vcf, tmp_path / "sites.parquet", sites=SITES, site_reader=reader)
    full = normalize_vcf(vcf, tmp_path / "full.parquet")
    assert (by_sites.mode, full.mode) == ("module_sites", "full")
    assert (by_sites.site_reader, full.site_reader) == (reader, None)  # what the manifest and report say
    assert by_sites.records == full.records
    expected = pl.read_parquet(full.output).join(SITES, on=["chrom", "start"], how="semi")
    assert expected.height >= 2
    assert pl.read_parquet(by_sites.output).equals(expected)


@READERS
def test_an_index_without_counts_is_rebuilt_not_refused(tmp_path: Path, genomes: Path, reader: str) -> None:
    vcf = copy_with_index(genomes / "PG_NA12878_chr21.vcf.gz", tmp_path)
    assert index_path(vcf) is not None and indexed_contig_counts(vcf) is None  # older tabix: no counts
    assert_site_read_equals_full_read(vcf, tmp_path, reader)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [vcf.name, vcf.name + ".tbi", "sites.parquet", "full.parquet"]
    )  # the rebuilt index lived in a temp folder


@READERS
def test_a_damaged_index_is_rebuilt(tmp_path: Path, genomes: Path, reader: str) -> None:
    vcf = copy_with_index(genomes / "PG_NA12878_chr21.vcf.gz", tmp_path, index=gzip.compress(b"TBI\1garbage"))
    assert indexed_contig_counts(vcf) is None
    assert_site_read_equals_full_read(vcf, tmp_path, reader)


@READERS
def test_an_unsorted_file_is_read_whole(tmp_path: Path, reader: str) -> None:
    text = tmp_path / "unsorted.vcf"
    text.write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=21,length=48129895>\n"
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n"
        "21\t48099782\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\n21\t9412503\t.\tC\tT\t50\tPASS\t.\tGT\t1/1\n"
    )
    vcf = tmp_path / "unsorted.vcf.gz"
    pysam.tabix_compress(str(text), str(vcf))
    result = normalize_vcf(vcf, tmp_path / "out.parquet", sites=SITES, site_reader=reader)
    assert (result.mode, result.records) == ("full", 2)

"""The one-pass site scan of a bgzipped VCF (io/vcf_site_scan.py + csrc/vcf_scan.c) gives the indexed read's result.

Every comparison runs both ways on the same file: `site_reader="scan"` (one pass, no index) against
`site_reader="index"` (tabix built or found, then htslib's region query), which tests elsewhere prove equal to
the full read. Real files: every bgzipped VCF of the shared genomes and corpus, and every text VCF of the
corpus bgzipped here, at their own positions and just after them (inside deletions and reference blocks).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pysam
import pytest

from just_dna_pipelines.errors import PipelineError, VcfError
from just_dna_pipelines.io.genome_build import normalize_chrom
from just_dna_pipelines.io.vcf_header import read_vcf_header
from just_dna_pipelines.io.vcf_index import indexed_contig_counts
from just_dna_pipelines.io.vcf_limits import MIB, ReadLimits, read_limits
from just_dna_pipelines.io.vcf_normalize import normalize_vcf
from just_dna_pipelines.io.vcf_site_scan import scan_sites, site_scan_available
from just_dna_pipelines.io.vcf_stream import check_text_bounds
from tests.bgzf_blocks import bgzf_blocks

pytestmark = pytest.mark.skipif(
    not site_scan_available(), reason="the C helpers or libdeflate are missing: the scan cannot run here"
)

HEADER = (
    "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=248956422>\n##contig=<ID=chr2,length=242193529>\n"
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
)
COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n"
END_LINE = '##INFO=<ID=END,Number=1,Type=Integer,Description="End">\n'
SVLEN_LINE = '##INFO=<ID=SVLEN,Number=A,Type=Integer,Description="Length">\n'


def bgzip(tmp_path: Path, text: str, name: str = "in.vcf") -> Path:
    """Write `text` and bgzip it (no index beside it)."""
    plain = tmp_path / name
    plain.write_text(text)
    packed = tmp_path / (name + ".gz")
    pysam.tabix_compress(str(plain), str(packed), force=True)
    plain.unlink()
    return packed


def vcf_text(records: list[str], meta: str = "") -> str:
    """A one-sample VCF; record fields are space-separated for reading."""
    return HEADER + meta + COLUMNS + "".join("\t".join(r.split()) + "\n" for r in records)


def both_ways(vcf: Path, sites: pl.DataFrame, folder: Path) -> list[tuple]:
    """(mode, records, damaged, chromosomes, table) by the scan and by the index, or the refusal's line."""
    results = []
    for reader in ("scan", "index"):
        try:
            got = normalize_vcf(vcf, folder / f"{reader}.parquet", sites=sites, site_reader=reader)
        except PipelineError as exc:
            results.append(("refused", str(exc)))
            continue
        table = pl.read_parquet(got.output)
        results.append((got.mode, got.records, got.malformed_records, got.chromosomes, table))
    return results


def assert_same(results: list[tuple], name: str) -> None:
    scanned, indexed = results
    assert scanned[:4] == indexed[:4], name
    if len(scanned) == 5:
        assert scanned[4].equals(indexed[4]), name


def own_positions(vcf: Path, most: int = 400) -> pl.DataFrame:
    """The positions of up to `most` records spread over the file, and one and two bases after each (inside
    deletions and reference blocks)."""
    found = []
    with gzip.open(vcf, "rt", errors="replace") as lines:
        for line in lines:
            fields = line.split("\t", 2)
            if not line.startswith("#") and len(fields) > 2 and fields[1].isdigit():
                found.append((normalize_chrom(fields[0]), int(fields[1])))
    frame = pl.DataFrame(found, schema={"chrom": pl.String, "start": pl.Int64}, orient="row")
    frame = frame.gather_every(max(1, frame.height // most))
    return pl.concat(
        [frame, frame.with_columns(pl.col("start") + 1), frame.with_columns(pl.col("start") + 2)]
    )


def real_bgzipped_vcfs(genomes: Path, folder: Path) -> list[Path]:
    """The shared bgzipped VCFs, and the corpus's text VCFs bgzipped into `folder`."""
    corpus = genomes.parent / "corpus" / "vcf"
    found = sorted(genomes.glob("*.vcf.gz"))
    if corpus.is_dir():
        found += sorted(corpus.glob("*.vcf.gz"))
        for text in sorted(corpus.glob("*.vcf")):
            packed = folder / (text.name + ".gz")
            pysam.tabix_compress(str(text), str(packed), force=True)
            found.append(packed)
    return found


@pytest.mark.slow
def test_every_real_bgzipped_vcf_reads_the_same_by_scan_and_by_index(tmp_path: Path, genomes: Path) -> None:
    scanned = 0
    for number, vcf in enumerate(real_bgzipped_vcfs(genomes, tmp_path)):
        folder = tmp_path / f"run-{number}"
        folder.mkdir()
        results = both_ways(vcf, own_positions(vcf), folder)
        assert_same(results, vcf.name)
        scanned += results[0][0] == "module_sites"
    assert scanned >= 25  # most of them are read at their sites, not refused or read whole


def test_a_real_genome_scan_counts_what_its_index_counts(genomes: Path) -> None:
    vcf = genomes / "PG_NA12878_hg38-chr21.vcf.gz"
    sites = pl.DataFrame({"chrom": ["21", "21", "21"], "start": [14945905, 45090793, 45090794]})
    found = scan_sites(vcf, read_vcf_header(vcf), sites, read_limits())
    assert found is not None
    assert found.contig_counts == indexed_contig_counts(vcf) == {"chr21": 65_370}
    assert found.record_lines == 65_370
    with gzip.open(vcf, "rb") as text:
        head = text.read(len(found.header) + 1)
    assert head.startswith(found.header) and found.header.endswith(b"\n") and head[-1:] != b"#"
    kept = found.kept.decode().splitlines()
    assert [int(line.split("\t")[1]) for line in kept] == [14945905, 45090793]


def test_the_whole_genome_path_reads_what_the_full_read_reads_at_the_sites(
    tmp_path: Path, genomes: Path
) -> None:
    vcf = genomes / "PG_NA12878_hg38-chr21.vcf.gz"
    sites = own_positions(vcf, most=20_000)
    by_scan = normalize_vcf(vcf, tmp_path / "scan.parquet", sites=sites, site_reader="scan")
    full = normalize_vcf(vcf, tmp_path / "full.parquet")
    assert (by_scan.mode, full.mode) == ("module_sites", "full")
    assert by_scan.records == full.records == 65_370
    at_sites = pl.read_parquet(full.output).join(sites.unique(), on=["chrom", "start"], how="semi")
    scanned = pl.read_parquet(by_scan.output)
    # the scan (like the index) also returns records reaching a site from an earlier start
    assert scanned.join(sites.unique(), on=["chrom", "start"], how="semi").equals(at_sites)
    assert at_sites.height > 15_000


@pytest.mark.parametrize(
    ("meta", "records", "sites"),
    [
        # a deletion reaching two sites after its start, a SNV beside it
        ("", ["chr1 100 . ACGT A 50 PASS . GT 0/1", "chr1 105 . C T 50 PASS . GT 1/1"], [102, 105]),
        # a gVCF reference block whose declared END reaches the site; an END the header does not declare
        # (on a plain SNV), and a symbolic deletion with and without a declared SVLEN
        (END_LINE, ["chr1 100 . A <*> . . END=200 GT 0/0", "chr1 300 . C T 50 PASS . GT 0/1"], [150, 300]),
        ("", ["chr1 100 . A G 50 PASS END=200 GT 0/1", "chr1 300 . C T 50 PASS . GT 0/1"], [150, 300]),
        (
            SVLEN_LINE,
            ["chr1 100 . A <DEL> 50 PASS SVLEN=-90 GT 0/1", "chr1 400 . C T 50 PASS . GT 0/1"],
            [150],
        ),
        ("", ["chr1 100 . A <DEL> 50 PASS SVLEN=-90 GT 0/1", "chr1 400 . C T 50 PASS . GT 0/1"], [150]),
        (END_LINE + SVLEN_LINE, ["chr1 100 . A <DEL> 50 PASS SVLEN=-90;END=190 GT 0/1"], [150, 191]),
        # an END shorter than REF, then a multi-allelic record on the next contig
        (
            END_LINE,
            ["chr1 100 . ACGTACGT A 50 PASS END=101 GT 0/1", "chr2 7 . G A,T 50 PASS . GT 1/2"],
            [105],
        ),
        # no site near any record
        ("", ["chr1 100 . A G 50 PASS . GT 0/1", "chr2 7 . G A 50 PASS . GT 1/1"], [999]),
    ],
)
def test_records_reaching_a_site_are_read_as_the_index_reads_them(
    tmp_path: Path, meta: str, records: list[str], sites: list[int]
) -> None:
    vcf = bgzip(tmp_path, vcf_text(records, meta))
    chr2 = pl.DataFrame({"chrom": ["2"], "start": [7]})
    frame = pl.concat([pl.DataFrame({"chrom": ["1"] * len(sites), "start": sites}), chr2])
    results = both_ways(vcf, frame, tmp_path)
    assert results[0][0] == "module_sites"
    assert_same(results, meta + "|".join(records))


@pytest.mark.parametrize(
    "records",
    [
        ["chr1 100 . A G 50 PASS . GT 0/1", "#comment among the records", "chr1 200 . C T 50 PASS . GT 1/1"],
        ["chr1 100 . A G 50 PASS . GT 0/1", "chr1 200 . C T 50 PASS . GT 1/1 extra"],  # one column too many
        ["chr1 100 . A G 50 PASS . GT", "chr1 200 . C T 50 PASS . GT 1/1"],  # one too few
        ["chr1 200 . A G 50 PASS . GT 0/1", "chr1 100 . C T 50 PASS . GT 1/1"],  # out of order
        [
            "chr1 100 . A G 50 PASS . GT 0/1",
            "chr2 5 . C T 50 PASS . GT 1/1",
            "chr1 300 . C T 50 PASS . GT 0/1",
        ],
        ["chr1 1e2 . A G 50 PASS . GT 0/1", "chr1 200 . C T 50 PASS . GT 1/1"],  # not a plain position
    ],
)
def test_lines_the_scan_does_not_read_go_the_general_way_with_the_same_result(
    tmp_path: Path, records: list[str]
) -> None:
    vcf = bgzip(tmp_path, vcf_text(records))
    assert (
        scan_sites(vcf, read_vcf_header(vcf), pl.DataFrame({"chrom": ["1"], "start": [100]}), read_limits())
        is None
    )
    assert_same(
        both_ways(vcf, pl.DataFrame({"chrom": ["1", "1"], "start": [100, 200]}), tmp_path), str(records)
    )


def test_windows_line_endings_and_empty_fields_go_the_general_way(tmp_path: Path) -> None:
    for number, text in enumerate(
        [
            vcf_text(["chr1 100 . A G 50 PASS . GT 0/1"]).replace("\n", "\r\n"),
            vcf_text(["chr1 100 . A G 50 PASS . GT 0/1"]).replace("PASS\t.", "PASS\t"),
        ]
    ):
        folder = tmp_path / str(number)
        folder.mkdir()
        vcf = bgzip(folder, text)
        sites = pl.DataFrame({"chrom": ["1"], "start": [100]})
        assert scan_sites(vcf, read_vcf_header(vcf), sites, read_limits()) is None
        assert_same(both_ways(vcf, sites, folder), text)


def test_blank_lines_between_records_and_a_missing_last_newline_are_read(tmp_path: Path) -> None:
    text = vcf_text(["chr1 100 . A G 50 PASS . GT 0/1", "chr1 200 . C T 50 PASS . GT 1/1"])
    text = text.replace("0/1\n", "0/1\n\n").rstrip("\n")
    vcf = bgzip(tmp_path, text)
    found = scan_sites(
        vcf, read_vcf_header(vcf), pl.DataFrame({"chrom": ["1"], "start": [200]}), read_limits()
    )
    assert (
        found is not None
        and found.record_lines == 2
        and found.kept == b"chr1\t200\t.\tC\tT\t50\tPASS\t.\tGT\t1/1\n"
    )


def test_a_line_beyond_the_limit_is_refused_as_the_bounds_check_refuses_it(tmp_path: Path) -> None:
    long_info = "X=" + "A" * (2 * MIB)
    vcf = bgzip(
        tmp_path, vcf_text(["chr1 100 . A G 50 PASS . GT 0/1", f"chr1 200 . C T 50 PASS {long_info} GT 1/1"])
    )
    limits = ReadLimits(max_decompressed_bytes=1 << 30, max_line_bytes=MIB)
    with pytest.raises(VcfError) as general:
        check_text_bounds(vcf, limits)
    with pytest.raises(VcfError) as scanned:
        scan_sites(vcf, read_vcf_header(vcf), pl.DataFrame({"chrom": ["1"], "start": [100]}), limits)
    assert str(scanned.value) == str(general.value) and "has a line longer than 1 MB" in str(scanned.value)


def test_a_file_beyond_the_size_limit_is_refused_as_the_bounds_check_refuses_it(tmp_path: Path) -> None:
    records = [f"chr1 {position} . A G 50 PASS . GT 0/1" for position in range(1, 60_001)]
    vcf = bgzip(tmp_path, vcf_text(records))
    limits = ReadLimits(max_decompressed_bytes=MIB, max_line_bytes=MIB)
    with pytest.raises(VcfError) as general:
        check_text_bounds(vcf, limits)
    with pytest.raises(VcfError) as scanned:
        scan_sites(vcf, read_vcf_header(vcf), pl.DataFrame({"chrom": ["1"], "start": [100]}), limits)
    assert str(scanned.value) == str(general.value) and "decompresses to more than" in str(scanned.value)


def test_a_cut_or_damaged_file_is_refused_with_the_general_readers_line(tmp_path: Path) -> None:
    records = [f"chr1 {position} . A G 50 PASS . GT 0/1" for position in range(1, 30_001)]
    data = bgzip(tmp_path, vcf_text(records)).read_bytes()
    (second, second_size) = bgzf_blocks(data)[1]  # the first block holds the header: it stays readable
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(data[: second + second_size // 2])
    damaged = tmp_path / "damaged.vcf.gz"
    flipped = bytearray(data)
    flipped[second + second_size - 8] ^= 0xFF  # the second block's CRC32
    damaged.write_bytes(bytes(flipped))
    sites = pl.DataFrame({"chrom": ["1"], "start": [100]})
    for path, words in (
        (cut, "is truncated (its gzip data ends early)"),
        (damaged, "is a damaged gzip file"),
    ):
        with pytest.raises(VcfError) as general:
            check_text_bounds(path, read_limits())
        with pytest.raises(VcfError) as scanned:
            scan_sites(path, read_vcf_header(path), sites, read_limits())
        assert str(scanned.value) == str(general.value) and words in str(scanned.value)


def test_no_end_of_file_marker_and_a_plain_gzip_member_after_thebgzf_blocks(tmp_path: Path) -> None:
    records = [f"chr1 {position} . A G 50 PASS . GT 0/1" for position in range(100, 3_000, 7)]
    data = bgzip(tmp_path, vcf_text(records)).read_bytes()
    sites = pl.DataFrame({"chrom": ["1", "1"], "start": [100, 2_998]})
    no_eof = tmp_path / "no_eof.vcf.gz"
    no_eof.write_bytes(data[:-28])  # bgzip's empty end-of-file block dropped
    assert scan_sites(no_eof, read_vcf_header(no_eof), sites, read_limits()) is not None
    # htslib will not index it (so the index way reads it whole): the scan reads the sites as the full read does
    by_scan = normalize_vcf(no_eof, tmp_path / "scan.parquet", sites=sites)
    full = normalize_vcf(no_eof, tmp_path / "full.parquet")
    assert (by_scan.mode, by_scan.records) == ("module_sites", full.records)
    at_sites = pl.read_parquet(full.output).join(sites, on=["chrom", "start"], how="semi")
    assert at_sites.height == 2 and pl.read_parquet(by_scan.output).equals(at_sites)
    mixed = tmp_path / "mixed.vcf.gz"
    mixed.write_bytes(data[:-28] + gzip.compress(b"chr1\t3000\t.\tA\tG\t50\tPASS\t.\tGT\t1/1\n"))
    assert (
        scan_sites(mixed, read_vcf_header(mixed), sites, read_limits()) is None
    )  # zlib's turn: the general path
    (mixed_dir := tmp_path / "mixed").mkdir()
    assert_same(both_ways(mixed, sites, mixed_dir), "mixed")

"""Reading a bgzipped VCF at sites through its own tabix/CSI index (io/vcf_index_read.py) gives htslib's indexed
read and the one-pass scan's result, inflating only the blocks the index names, within the same bounds.

Real files: every bgzipped VCF of the shared genomes and corpus that comes with an index, and every text VCF of
the corpus bgzipped here and indexed both ways (.tbi and CSI), at their own positions and just after them.
"""

from __future__ import annotations

import gzip
import os
import shutil
import struct
import tracemalloc
import zlib
from pathlib import Path

import polars as pl
import pysam
import pytest

from just_dna_pipelines.errors import PipelineError, VcfError
from just_dna_pipelines.io.vcf_index import index_path, indexed_contig_counts
from just_dna_pipelines.io.vcf_index_read import index_matches_file, load_index, read_sites_by_index
from just_dna_pipelines.io.vcf_limits import MIB, ReadLimits, read_limits
from just_dna_pipelines.io.vcf_normalize import normalize_vcf
from just_dna_pipelines.io.vcf_site_scan import site_scan_available
from tests.io.test_vcf_site_scan import END_LINE, own_positions, vcf_text

READERS = ("auto", "index", "scan")  # own index read here / htslib's query / one pass


def bgzip_indexed(folder: Path, text: str, name: str = "in.vcf", *, csi: bool = False) -> Path:
    """`text` bgzipped with a .tbi (or a .csi) beside it."""
    plain = folder / name
    plain.write_text(text)
    packed = Path(pysam.tabix_index(str(plain), preset="vcf", force=True, csi=csi))
    return packed


def every_way(vcf: Path, sites: pl.DataFrame, folder: Path) -> dict[str, tuple]:
    """(mode, records, damaged, chromosomes, site reader, table) per reader, or the refusal's line."""
    results: dict[str, tuple] = {}
    for reader in READERS:
        if reader == "scan" and not site_scan_available():
            continue
        try:
            got = normalize_vcf(vcf, folder / f"{reader}.parquet", sites=sites, site_reader=reader)
        except PipelineError as exc:
            results[reader] = ("refused", str(exc))
            continue
        table = pl.read_parquet(got.output)
        results[reader] = (
            got.mode,
            got.records,
            got.malformed_records,
            got.chromosomes,
            got.site_reader,
            table,
        )
    return results


def assert_same(results: dict[str, tuple], name: str) -> None:
    """The index read's result is htslib's (and the scan's, where it ran), record for record."""
    own = results["auto"]
    for reader, other in results.items():
        assert own[:4] == other[:4], f"{name}: auto vs {reader}"
        if len(own) == 6:
            assert own[5].equals(other[5]), f"{name}: auto vs {reader}"


def indexed_real_vcfs(genomes: Path, folder: Path) -> list[Path]:
    """Real bgzipped VCFs with their own index (linked here with it), and the corpus's text VCFs bgzipped and
    indexed here, once with a .tbi and once with a CSI (files tabix refuses, e.g. unsorted, are left out)."""
    corpus = genomes.parent / "corpus" / "vcf"
    folder.mkdir(parents=True, exist_ok=True)
    found: list[Path] = []
    candidates = sorted(genomes.glob("*.vcf.gz")) + (
        sorted(corpus.glob("*.vcf.gz")) if corpus.is_dir() else []
    )
    for vcf in candidates:
        index = index_path(vcf)
        if index is None:
            continue
        target = folder / vcf.name
        shutil.copyfile(vcf, target)
        shutil.copyfile(index, folder / (vcf.name + index.suffix))
        found.append(target)
    for text in sorted(corpus.glob("*.vcf")) if corpus.is_dir() else []:
        for csi in (False, True):
            subfolder = folder / ("csi" if csi else "tbi")
            subfolder.mkdir(exist_ok=True)
            try:
                found.append(bgzip_indexed(subfolder, text.read_text(errors="replace"), text.name, csi=csi))
            except (OSError, ValueError, pysam.utils.SamtoolsError):
                continue  # tabix refuses it (unsorted, no records, ...): no index to read through
    return found


@pytest.mark.slow
def test_every_real_indexed_vcf_reads_the_same_through_its_index(tmp_path: Path, genomes: Path) -> None:
    through_index = 0
    formats = set()
    for number, vcf in enumerate(indexed_real_vcfs(genomes, tmp_path / "inputs")):
        folder = tmp_path / f"run-{number}"
        folder.mkdir(parents=True)
        results = every_way(vcf, own_positions(vcf), folder)
        assert_same(results, str(vcf))
        if results["auto"][0] == "module_sites" and results["auto"][4] == "index":
            through_index += 1
            formats.add(index_path(vcf).suffix)  # type: ignore[union-attr]
    assert through_index >= 40  # read through their own index, not refused, read whole or left to the scan
    assert formats == {".tbi", ".csi"}


def test_a_real_genome_read_through_its_index_inflates_a_small_share_and_counts_what_htslib_counts(
    genomes: Path,
) -> None:
    vcf = genomes / "PG_NA12878_hg38-chr21.vcf.gz"
    sites = pl.DataFrame({"chrom": ["21", "21", "21"], "start": [14945905, 45090793, 45090794]})
    found = read_sites_by_index(vcf, vcf.with_name(vcf.name + ".tbi"), sites, read_limits())
    assert found is not None
    assert found.contig_counts == indexed_contig_counts(vcf) == {"chr21": 65_370}
    with gzip.open(vcf, "rb") as text:
        whole = text.read()
    assert whole.startswith(found.header) and whole[len(found.header) : len(found.header) + 1] != b"#"
    kept = [line.split("\t") for line in found.kept.decode().splitlines()]
    assert {(fields[0], int(fields[1])) for fields in kept} >= {("chr21", 14945905), ("chr21", 45090793)}
    assert all(line in whole.decode() for line in found.kept.decode().splitlines())
    assert found.inflated_bytes < len(whole) // 10  # the header's block and the sites' blocks, not the file


def test_a_csi_index_gives_what_a_tabix_index_gives(tmp_path: Path) -> None:
    records = [f"chr1 {position} . A G 50 PASS . GT 0/1" for position in range(100, 400_000, 37)]
    records += [f"chr2 {position} . C T 50 PASS . GT 1/1" for position in range(5, 90_000, 53)]
    text = vcf_text(records)
    (tmp_path / "tbi").mkdir()
    (tmp_path / "csi").mkdir()
    tbi = bgzip_indexed(tmp_path / "tbi", text)
    csi = bgzip_indexed(tmp_path / "csi", text, csi=True)
    assert index_path(csi).suffix == ".csi"  # type: ignore[union-attr]
    sites = pl.DataFrame({"chrom": ["1", "1", "1", "2", "3"], "start": [100, 137, 250_000, 58, 10]})
    by_tbi = read_sites_by_index(tbi, tbi.with_name(tbi.name + ".tbi"), sites, read_limits())
    by_csi = read_sites_by_index(csi, csi.with_name(csi.name + ".csi"), sites, read_limits())
    assert by_tbi is not None and by_csi is not None
    assert (
        by_tbi.contig_counts
        == by_csi.contig_counts
        == {
            "chr1": len(range(100, 400_000, 37)),
            "chr2": len(range(5, 90_000, 53)),
        }
    )
    for found in (by_tbi, by_csi):
        starts = {int(line.split("\t")[1]) for line in found.kept.decode().splitlines()}
        assert {100, 137, 58} <= starts
    load_index(csi.with_name(csi.name + ".csi"))  # parses


@pytest.mark.parametrize("csi", [False, True])
def test_long_records_reaching_a_site_from_an_earlier_window_are_found(tmp_path: Path, csi: bool) -> None:
    """A deletion and a reference block crossing into the 16 kb window of a site are found, as htslib finds them.
    (In files this small htslib merges the bins; the lowest-offset bound is put to the test by the real genomes
    above: a bound one window too high fails there, for .tbi and CSI alike.)"""
    deletion = "chr1 32710 . " + "A" * 300 + " A 50 PASS . GT 0/1"  # reaches 33009, across 32768
    block = "chr1 65000 . C <*> . . END=66000 GT 0/0"  # across 65536
    snvs = {position: f"chr1 {position} . C T 50 PASS . GT 0/1" for position in range(110, 300_000, 50)}
    records = [line for _, line in sorted([*snvs.items(), (32_710, deletion), (65_000, block)])]
    vcf = bgzip_indexed(tmp_path, vcf_text(records, END_LINE), csi=csi)
    sites = pl.DataFrame({"chrom": ["1", "1", "1"], "start": [32_990, 65_900, 299_960]})
    results = every_way(vcf, sites, tmp_path)
    assert results["auto"][:2] == ("module_sites", len(records)) and results["auto"][4] == "index"
    assert_same(results, "long records")
    assert {32_710, 65_000, 299_960} <= set(results["auto"][5]["start"].to_list())


def test_a_line_beyond_the_limit_at_a_site_is_refused_and_one_elsewhere_is_not_read(tmp_path: Path) -> None:
    long_info = "X=" + "A" * (2 * MIB)
    records = [f"chr1 {position} . A G 50 PASS . GT 0/1" for position in range(100, 200_000, 40)]
    records.insert(999, f"chr1 40050 . C T 50 PASS {long_info} GT 1/1")  # between 40020 and 40060
    vcf = bgzip_indexed(tmp_path, vcf_text(records))
    limits = ReadLimits(max_decompressed_bytes=1 << 30, max_line_bytes=MIB)
    index = vcf.with_name(vcf.name + ".tbi")
    with pytest.raises(VcfError, match="has a line longer than 1 MB"):
        read_sites_by_index(vcf, index, pl.DataFrame({"chrom": ["1"], "start": [40050]}), limits)
    far = read_sites_by_index(vcf, index, pl.DataFrame({"chrom": ["1"], "start": [190_020]}), limits)
    assert far is not None and b"X=AAAA" not in far.kept and b"\t190020\t" in far.kept


def test_an_unreadable_or_foreign_index_leaves_the_file_to_the_one_pass(tmp_path: Path) -> None:
    records = [f"chr1 {position} . A G 50 PASS . GT 0/1" for position in range(100, 30_000, 7)]
    vcf = bgzip_indexed(tmp_path, vcf_text(records))
    index = vcf.with_name(vcf.name + ".tbi")
    sites = pl.DataFrame({"chrom": ["1", "1"], "start": [100, 29_997]})
    expected = pl.read_parquet(
        normalize_vcf(vcf, tmp_path / "scan.parquet", sites=sites, site_reader="scan").output
    )
    # garbage, a cut index, and the index of a much longer file (offsets beyond this one's end)
    longer = tmp_path / "longer"
    longer.mkdir()
    many = [f"chr1 {position} . A G 50 PASS . GT 0/1" for position in range(100, 3_000_000, 7)]
    foreign = bgzip_indexed(longer, vcf_text(many))
    for number, content in enumerate(
        [
            gzip.compress(b"not an index at all"),
            index.read_bytes()[: len(index.read_bytes()) // 2],
            foreign.with_name(foreign.name + ".tbi").read_bytes(),
        ]
    ):
        index.write_bytes(content)
        os.utime(index)  # not older than the file, so it is taken as its index
        if number == 2:
            sites = pl.DataFrame({"chrom": ["1", "1"], "start": [2_999_996, 100]})
        assert read_sites_by_index(vcf, index, sites, read_limits()) is None or number == 2
        got = normalize_vcf(vcf, tmp_path / f"auto-{number}.parquet", sites=sites)
        at_sites = expected.join(sites, on=["chrom", "start"], how="semi")
        assert pl.read_parquet(got.output).join(sites, on=["chrom", "start"], how="semi").equals(at_sites)


def test_an_index_made_from_another_version_of_the_file_is_not_followed(
    tmp_path: Path, genomes: Path
) -> None:
    """A .tbi newer than the genome but made from a different file (here its first 5,000 lines) passes htslib's
    timestamp check; followed, the genome read as 4,956 records and no module site on chr21. It is recognized
    by where its last record ends, and the file is read in one pass: every record counted, the sites found."""
    vcf = tmp_path / "genome.vcf.gz"
    shutil.copyfile(genomes / "PG_NA12878_hg38-chr21.vcf.gz", vcf)
    with gzip.open(vcf, "rt") as text:
        head = "".join(line for _, line in zip(range(5_000), text, strict=False))
    (tmp_path / "other").mkdir()
    other = bgzip_indexed(tmp_path / "other", head)
    index = vcf.with_name(vcf.name + ".tbi")
    shutil.copyfile(other.with_name(other.name + ".tbi"), index)
    os.utime(index, (vcf.stat().st_mtime + 60, vcf.stat().st_mtime + 60))  # newer than the file
    sites = pl.DataFrame({"chrom": ["21", "21"], "start": [14945905, 45090793]})
    assert read_sites_by_index(vcf, index, sites, read_limits()) is None
    assert index_path(vcf) is None  # nor handed to htslib as the file's index
    got = normalize_vcf(vcf, tmp_path / "auto.parquet", sites=sites)
    assert (got.mode, got.site_reader, got.records) == ("module_sites", "scan", 65_370)
    assert pl.read_parquet(got.output)["start"].to_list() == [14945905, 45090793]
    # the file's own index, made after, is followed again
    pysam.tabix_index(str(vcf), preset="vcf", force=True)
    assert index_path(vcf) == index and read_sites_by_index(vcf, index, sites, read_limits()) is not None


def test_a_bcf_with_the_index_of_an_earlier_version_is_indexed_afresh(tmp_path: Path, genomes: Path) -> None:
    """A BCF is read through htslib and an index: not through a .csi made from another version of it."""
    bcf = tmp_path / "genome.bcf"
    shutil.copyfile(genomes / "pg-hg38.bcf", bcf)
    earlier = tmp_path / "earlier.bcf"
    pysam.bcftools.view("-Ob", "-o", str(earlier), "-t", "chr21:1-20000000", str(bcf), catch_stdout=False)
    pysam.bcftools.index(str(earlier))
    index = bcf.with_name(bcf.name + ".csi")
    shutil.copyfile(earlier.with_name(earlier.name + ".csi"), index)
    assert index_path(bcf) is None
    shutil.copyfile(genomes / "pg-hg38.bcf.csi", index)
    assert index_path(bcf) == index  # its own index is taken
    with pysam.VariantFile(str(bcf)) as records:
        positions = [(record.chrom.removeprefix("chr"), record.pos) for record in records]
    sites = pl.DataFrame(positions[:: max(1, len(positions) // 200)], schema=["chrom", "start"], orient="row")
    full = normalize_vcf(genomes / "pg-hg38.bcf", tmp_path / "own.parquet", sites=sites)
    assert full.mode == "module_sites" and full.records == len(positions)
    shutil.copyfile(earlier.with_name(earlier.name + ".csi"), index)
    os.utime(index, (bcf.stat().st_mtime + 60, bcf.stat().st_mtime + 60))
    got = normalize_vcf(bcf, tmp_path / "stale.parquet", sites=sites)
    assert got.records == full.records
    assert pl.read_parquet(got.output).equals(pl.read_parquet(full.output))


def test_a_nameless_csi_claiming_millions_of_contigs_is_refused_without_building_them(
    tmp_path: Path, genomes: Path
) -> None:
    """A BCF's CSI names no contigs, so they are numbered; a count no index of that size could hold is refused."""
    bcf = tmp_path / "genome.bcf"
    shutil.copyfile(genomes / "pg-hg38.bcf", bcf)
    index = bcf.with_name(bcf.name + ".csi")
    index.write_bytes(
        gzip.compress(b"CSI\x01" + struct.pack("<3i", 14, 5, 0) + struct.pack("<i", 2_000_000_000))
    )
    tracemalloc.start()
    try:
        assert not index_matches_file(bcf, index, read_limits())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40 << 20  # the bounded index read's buffer; 5 M numbered names took ~300 MB before
    assert index_path(bcf) is None


def test_a_file_without_bgzips_end_marker_is_left_to_the_one_pass(tmp_path: Path) -> None:
    """A file bgzip did not finish (cut after it was indexed) is not read through its index."""
    records = [f"chr1 {position} . A G 50 PASS . GT 0/1" for position in range(100, 30_000, 7)]
    vcf = bgzip_indexed(tmp_path, vcf_text(records))
    index = vcf.with_name(vcf.name + ".tbi")
    sites = pl.DataFrame({"chrom": ["1", "1"], "start": [100, 29_997]})
    assert read_sites_by_index(vcf, index, sites, read_limits()) is not None
    vcf.write_bytes(vcf.read_bytes()[:-28])
    os.utime(index)
    assert read_sites_by_index(vcf, index, sites, read_limits()) is None
    got = normalize_vcf(vcf, tmp_path / "auto.parquet", sites=sites)
    assert (got.mode, got.site_reader, got.records) == ("module_sites", "scan", len(records))
    assert pl.read_parquet(got.output)["start"].to_list() == [100, 29_997]


def _varied(position: int) -> str:
    """A record whose INFO varies, so the file spans many BGZF blocks."""
    return f"chr1 {position} . A G 50 PASS X={position * 2654435761 % 2**32:08x} GT 0/1"


def test_with_both_a_tbi_and_a_csi_the_csi_is_read_as_htslib_reads_it(tmp_path: Path) -> None:
    """A folder copied with its indexes: a stale .tbi (of an earlier, shorter version) beside the right .csi."""
    records = [_varied(position) for position in range(100, 600_000, 25)]
    (tmp_path / "now").mkdir()
    (tmp_path / "old").mkdir()
    vcf = bgzip_indexed(tmp_path / "now", vcf_text(records), csi=True)
    old = bgzip_indexed(tmp_path / "old", vcf_text(records[:8000]))
    shutil.copyfile(old.with_name(old.name + ".tbi"), vcf.with_name(vcf.name + ".tbi"))
    assert index_path(vcf) == vcf.with_name(vcf.name + ".csi")
    results = every_way(vcf, pl.DataFrame({"chrom": ["1", "1"], "start": [150_000, 500_000]}), tmp_path)
    assert_same(results, "tbi and csi")
    assert results["auto"][1] == len(records) and results["auto"][5]["start"].to_list() == [150_000, 500_000]


def test_many_sites_in_the_same_blocks_inflate_each_block_once(tmp_path: Path) -> None:
    """Sites a few records apart share blocks: each is inflated once, so a size limit the file keeps is kept."""
    records = [_varied(position) for position in range(100, 400_000, 20)]
    vcf = bgzip_indexed(tmp_path, vcf_text(records))
    with gzip.open(vcf, "rb") as text:
        whole = len(text.read())
    sites = pl.DataFrame({"chrom": ["1"] * 3000, "start": list(range(100, 400_000, 20))[::6][:3000]})
    found = read_sites_by_index(vcf, vcf.with_name(vcf.name + ".tbi"), sites, read_limits())
    assert found is not None and found.inflated_bytes <= whole
    limits = ReadLimits(max_decompressed_bytes=whole + MIB, max_line_bytes=MIB)
    assert read_sites_by_index(vcf, vcf.with_name(vcf.name + ".tbi"), sites, limits) is not None


def test_a_hostile_index_or_block_is_not_followed(tmp_path: Path) -> None:
    """An index whose one bin lists more chunks than any site read needs, a block claiming to inflate past a
    BGZF block's size, and sites at no real position: no memory blow-up, no crash, the one pass reads the file."""
    records = [_varied(position) for position in range(100, 300_000, 20)]
    vcf = bgzip_indexed(tmp_path, vcf_text(records))
    index = vcf.with_name(vcf.name + ".tbi")
    sites = pl.DataFrame({"chrom": ["1", "1", "1"], "start": [150_000, 0, -5]})
    expected = pl.read_parquet(
        normalize_vcf(vcf, tmp_path / "scan.parquet", sites=sites, site_reader="scan").output
    )
    assert pl.read_parquet(normalize_vcf(vcf, tmp_path / "auto.parquet", sites=sites).output).equals(expected)

    name = b"chr1\0"
    flood = 1_000_001  # chunks in bin 0, the bin every site of the contig reaches
    tabix = b"TBI\x01" + struct.pack("<8i", 1, 2, 1, 2, 0, ord("#"), 0, len(name)) + name
    tabix += struct.pack("<i", 2) + struct.pack("<Ii", 0, flood) + bytes(16 * flood)
    tabix += struct.pack("<Ii", 37450, 2) + struct.pack("<4Q", 0, 0, len(records), 0) + struct.pack("<i", 0)
    index.write_bytes(gzip.compress(tabix))
    os.utime(index)
    tracemalloc.start()
    try:
        assert read_sites_by_index(vcf, index, sites, read_limits()) is None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # reading the index takes ~3.5x its size; its chunks unpacked took ~500 MB a site before
    assert peak < 6 * len(tabix)
    assert pl.read_parquet(normalize_vcf(vcf, tmp_path / "flood.parquet", sites=sites).output).equals(
        expected
    )

    data = bytearray(vcf.read_bytes())
    offset = 0
    while offset < len(data):  # the block holding the site claims a 4 GiB inflated size
        size = struct.unpack_from("<H", data, offset + 16)[0] + 1
        if b"\t150000\t" in zlib.decompress(bytes(data[offset + 18 : offset + size - 8]), -15):
            struct.pack_into("<I", data, offset + size - 4, 0xFFFFFFFF)
            break
        offset += size
    lying = tmp_path / "lying"
    lying.mkdir()
    damaged = bgzip_indexed(lying, vcf_text(records))
    damaged.write_bytes(bytes(data))
    os.utime(damaged.with_name(damaged.name + ".tbi"))
    assert (
        read_sites_by_index(damaged, damaged.with_name(damaged.name + ".tbi"), sites, read_limits()) is None
    )


def test_every_site_reader_returns_the_records_in_the_files_order(tmp_path: Path) -> None:
    # chr2 before chr10 in the file; sorted as text, chr10 would come first (the regions' order, once)
    records = [f"chr2 {position} . A G 50 PASS . GT 0/1" for position in (100, 5_000, 90_000)]
    records += [f"chr10 {position} . C T 50 PASS . GT 1/1" for position in (200, 7_000)]
    vcf = bgzip_indexed(tmp_path, vcf_text(records))
    whole = pl.read_parquet(normalize_vcf(vcf, tmp_path / "whole.parquet").output)
    in_file_order = list(zip(whole["chrom"], whole["start"], strict=True))
    assert in_file_order[0] == ("2", 100) and in_file_order[-1] == ("10", 7_000)
    sites = pl.DataFrame({"chrom": ["10", "2", "2"], "start": [7_000, 100, 90_000]})
    for reader in READERS:
        if reader == "scan" and not site_scan_available():
            continue
        table = pl.read_parquet(
            normalize_vcf(vcf, tmp_path / f"{reader}.parquet", sites=sites, site_reader=reader).output
        )
        assert list(zip(table["chrom"], table["start"], strict=True)) == [
            ("2", 100),
            ("2", 90_000),
            ("10", 7_000),
        ], reader

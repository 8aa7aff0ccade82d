"""Bad BAM inputs fail with one clear BamError line."""

from __future__ import annotations

import gzip
import shutil
import struct
from pathlib import Path

import pytest
from pysam.libcbgzf import BGZFile

from just_dna_pipelines.bam.chunk_stats import iter_chunk_stats
from just_dna_pipelines.bam.source import locate
from just_dna_pipelines.defs.bam import StreamingBamChunkStreamer
from just_dna_pipelines.errors import BamError

from .conftest import GENOMES, HTSNEXUS, LoopbackServer, corpus, genome


def _stats(url: str) -> None:
    list(iter_chunk_stats(locate(url), 1000))


def test_plain_text_is_not_a_bam(tmp_path: Path) -> None:
    source = tmp_path / "calls.vcf"
    source.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\n")
    with pytest.raises(
        BamError, match=r"calls\.vcf is a VCF file; only BAM, CRAM and SAM \(plain, gzip or BGZF\)"
    ):
        _stats(str(source))


def test_bgzipped_vcf_is_not_a_bam() -> None:
    vcf = GENOMES / "PG_NA12878_chr21.vcf.gz"
    if not vcf.is_file():
        pytest.skip("fixture VCF absent")
    with pytest.raises(BamError, match="is a BGZF-compressed VCF file; only BAM, CRAM and SAM"):
        _stats(str(vcf))


def test_plain_gzip_is_not_a_bam(tmp_path: Path) -> None:
    source = tmp_path / "reads.bam"
    source.write_bytes(gzip.compress(b"BAM\x01" + b"\x00" * 100))
    with pytest.raises(BamError, match="is a BAM compressed with plain gzip, not BGZF"):
        _stats(str(source))


def test_empty_file_is_not_a_bam(tmp_path: Path) -> None:
    source = tmp_path / "empty.bam"
    source.write_bytes(b"")
    with pytest.raises(BamError, match=r"empty\.bam is empty \(0 bytes\)"):
        _stats(str(source))


def test_cut_file_is_truncated(tmp_path: Path) -> None:
    data = genome(HTSNEXUS).read_bytes()
    cut = tmp_path / "cut.bam"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(BamError, match="truncated"):
        _stats(str(cut))


def test_cut_inside_a_record_with_an_eof_marker_is_truncated(tmp_path: Path) -> None:
    """Well-formed BGZF with an EOF marker, but the BAM data stops in the middle of a read record."""
    raw = gzip.decompress(genome(HTSNEXUS).read_bytes())
    cut = tmp_path / "cut_in_record.bam"
    with BGZFile(str(cut), "wb") as out:
        out.write(raw[: len(raw) - 50])
    with pytest.raises(BamError, match="ends inside a read record"):
        _stats(str(cut))


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(BamError) as caught:
        StreamingBamChunkStreamer().open_stream(str(tmp_path), 1000)
    assert str(caught.value) == f"{tmp_path} is a folder, not a BAM, CRAM or SAM file"


def test_a_device_is_not_called_a_folder() -> None:
    with pytest.raises(BamError) as caught:
        StreamingBamChunkStreamer().open_stream("/dev/zero", 1000)
    assert (
        str(caught.value)
        == "/dev/zero is not a regular file (a device, pipe or socket), not a BAM, CRAM or SAM file"
    )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BamError, match=r"^no such file: "):
        _stats(str(tmp_path / "absent.bam"))


def test_unsupported_scheme() -> None:
    with pytest.raises(BamError) as caught:
        locate("ftp://example.org/x.bam")
    assert (
        str(caught.value)
        == "unsupported URL scheme in ftp://example.org/x.bam (use a path, file:// or https://)"
    )


def test_unreachable_url() -> None:
    with pytest.raises(BamError, match="cannot reach http://127"):
        _stats("http://127.0.0.1:9/x.bam")


def test_missing_remote_file_says_404(http_folder: LoopbackServer) -> None:
    with pytest.raises(BamError, match="HTTP 404"):
        _stats(http_folder.url("absent.bam"))


def test_required_index_missing(tmp_path: Path) -> None:
    bare = tmp_path / "no_index.bam"
    shutil.copy(genome(HTSNEXUS), bare)
    streamer = StreamingBamChunkStreamer(require_index=True)
    with pytest.raises(BamError, match="no index"):
        streamer.open_stream(str(bare), 1000)


def test_without_an_index_the_bam_streams_sequentially(tmp_path: Path) -> None:
    bare = tmp_path / "no_index.bam"
    shutil.copy(genome(HTSNEXUS), bare)
    stream = StreamingBamChunkStreamer().open_stream(str(bare), 1000)
    chunks = sum(len(batch.chunks) for batch in stream.batches())
    info = stream.file_info(chunks)
    assert (info.total_reads, info.total_chunks, info.index_reads) == (39_918, 40, None)


def test_a_stale_index_is_reported(tmp_path: Path) -> None:
    """The index of another BAM beside this one disagrees with the reads streamed."""
    bam = tmp_path / "reads.bam"
    shutil.copy(genome(HTSNEXUS), bam)
    shutil.copy(genome("NA12878_S1.chr20.10_10p1mb.bam").with_suffix(".bam.bai"), tmp_path / "reads.bam.bai")
    stream = StreamingBamChunkStreamer().open_stream(str(bam), 1000)
    chunks = sum(len(b.chunks) for b in stream.batches())
    with pytest.raises(BamError, match="index counts 52,035 reads but the file holds 39,918"):
        stream.file_info(chunks)


def test_a_hostile_csi_index_is_one_line_within_bounds(tmp_path: Path) -> None:
    """A 300 KB .csi inflating to 300 MB was inflated whole (a 600 KB one took 1.3 GB); damaged deflate data in
    one raised zlib.error as a traceback."""
    import gzip
    import zlib

    from just_dna_pipelines.bam.index import index_read_count

    bomb = tmp_path / "bomb.bam.csi"
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
    bomb.write_bytes(packer.compress(b"CSI\x01" + bytes(300 << 20)) + packer.flush())
    assert bomb.stat().st_size < 2 << 20
    with pytest.raises(BamError, match="larger than 256 MB"):
        index_read_count(bomb)
    damaged = tmp_path / "damaged.bam.csi"
    good = gzip.compress(b"CSI\x01" + bytes(1000))
    damaged.write_bytes(good[:12] + bytes(b ^ 0x5A for b in good[12:-8]) + good[-8:])
    with pytest.raises(BamError, match="corrupt or truncated"):
        index_read_count(damaged)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (struct.pack("<i", 400 << 20), "claims a BAM header text of 419,430,400 bytes"),
        (struct.pack("<ii", 0, 6_000_000), "claims 6,000,000 reference sequences"),
        (struct.pack("<iii", 0, 1, -5), "a reference name of -5 bytes"),
    ],
    ids=["header-text", "references", "name-length"],
)
def test_a_bam_header_claiming_huge_sizes_is_refused_at_once(
    tmp_path: Path, fields: bytes, message: str
) -> None:
    """A 660 KB BAM claiming a 400 MB header text took 2.4 GB and was accepted; 6 M references 28 s."""
    source = tmp_path / "crafted.bam"
    with BGZFile(str(source), "wb") as out:
        out.write(b"BAM\x01" + fields + b"\x00" * 64)
    with pytest.raises(BamError, match=message):
        _stats(str(source))


def _bgzipped_sam(path: Path, header: bytes) -> Path:
    """A BGZF-compressed SAM of `header` and one unmapped read."""
    with BGZFile(str(path), "wb") as out:
        out.write(header + b"r1\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\tIIII\n")
    return path


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (b"@CO\t" + b"a" * (65 << 20) + b"\n", "has a SAM header of more than 64 MB"),
        (b"".join(b"@SQ\tSN:c%d\tLN:9\n" % i for i in range(1_000_001)), "more than 1,000,000 @SQ lines"),
    ],
    ids=["header-text", "references"],
)
def test_a_sam_header_beyond_the_bounds_is_refused_before_htslib_reads_it(
    tmp_path: Path, header: bytes, message: str
) -> None:
    """htslib read a whole SAM header however large: a 600 KB bgzipped SAM with a 300 MB header took 3.9 GB and
    was accepted."""
    source = _bgzipped_sam(tmp_path / "crafted.sam.gz", header)
    assert source.stat().st_size < 8 << 20
    with pytest.raises(BamError, match=message):
        _stats(str(source))


def test_a_sam_header_within_the_bounds_streams(tmp_path: Path) -> None:
    source = _bgzipped_sam(
        tmp_path / "fine.sam.gz", b"@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:100\n@CO\t" + b"a" * 1000 + b"\n"
    )
    assert sum(chunk.total_reads for chunk in iter_chunk_stats(locate(str(source)), 1000)) == 1


def test_a_cram_header_container_claiming_a_huge_size_is_refused_at_once(tmp_path: Path) -> None:
    """htslib trusts the header container's and block's stated sizes; a CRAM of another version is named."""
    data = bytearray(corpus("htslib__test__range.cram").read_bytes())
    struct.pack_into("<i", data, 26, 400 << 20)  # the header container's length
    source = tmp_path / "crafted.cram"
    source.write_bytes(bytes(data))
    with pytest.raises(BamError, match="claims a CRAM header of 419,430,400 bytes"):
        _stats(str(source))
    data[4] = 4
    source.write_bytes(bytes(data))
    with pytest.raises(BamError, match=r"is CRAM version 4\.0: only 2\.x and 3\.x are read"):
        _stats(str(source))

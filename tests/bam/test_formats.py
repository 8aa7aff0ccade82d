"""The input's format is told from its bytes: BAM, CRAM, SAM (plain, gzip, BGZF); anything else is named."""

from __future__ import annotations

import gzip

import pytest
from pysam.libcbgzf import BGZFile

from just_dna_pipelines.bam.formats import AlignmentFormat, DetectedFormat, detect_format
from just_dna_pipelines.errors import BamError

SAM_HEADER = b"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:1000\n"
SAM_RECORD = b"r1\t0\tchr1\t100\t60\t4M\t*\t0\t0\tACGT\tIIII\n"
ONLY = "; only BAM, CRAM and SAM (plain, gzip or BGZF) can be streamed"


def _bgzf(data: bytes, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("bgzf") / "x.gz"
    with BGZFile(str(path), "wb") as out:
        out.write(data)
    return path.read_bytes()


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (SAM_HEADER + SAM_RECORD, DetectedFormat(AlignmentFormat.SAM)),
        (SAM_RECORD, DetectedFormat(AlignmentFormat.SAM)),  # no header at all
        (b"@CO\tonly a comment\r\n", DetectedFormat(AlignmentFormat.SAM)),  # DOS line ends
        (b"\n" + SAM_HEADER, DetectedFormat(AlignmentFormat.SAM)),
        (gzip.compress(SAM_HEADER + SAM_RECORD), DetectedFormat(AlignmentFormat.SAM, "gzip")),
        (b"CRAM\x03\x00" + b"\x00" * 20, DetectedFormat(AlignmentFormat.CRAM, "none", "3.0")),
        (b"CRAM\x03\x01file-id", DetectedFormat(AlignmentFormat.CRAM, "none", "3.1")),
    ],
)
def test_alignment_formats(head: bytes, expected: DetectedFormat) -> None:
    assert detect_format(head, "x") == expected


def test_bgzf_sam_and_bam(tmp_path_factory: pytest.TempPathFactory) -> None:
    sam = detect_format(_bgzf(SAM_HEADER, tmp_path_factory), "x")
    assert (sam, sam.describe()) == (DetectedFormat(AlignmentFormat.SAM, "BGZF"), "SAM (BGZF-compressed)")
    bam = detect_format(_bgzf(b"BAM\x01" + b"\x00" * 8, tmp_path_factory), "x")
    assert (bam, bam.describe()) == (DetectedFormat(AlignmentFormat.BAM, "BGZF"), "BAM")


def test_the_first_bytes_may_be_spread_over_tiny_bgzf_blocks(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    blocks = b"".join(_bgzf(SAM_HEADER[i : i + 1], tmp_path_factory)[:-28] for i in range(len(SAM_HEADER)))
    assert detect_format(blocks, "x").format is AlignmentFormat.SAM


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (b"", "x is empty (0 bytes)" + ONLY),
        (b"##fileformat=VCFv4.2\n#CHROM\tPOS\n", "x is a VCF file" + ONLY),
        (gzip.compress(b"##fileformat=VCFv4.2\n"), "x is a gzip-compressed VCF file" + ONLY),
        (b"BCF\x02\x02", "x is a BCF file" + ONLY),
        (b">chr1\nACGT\n", "x is a FASTA file" + ONLY),
        (b"@read1\nACGT\n+\nIIII\n", "x is a FASTQ file (unaligned reads)" + ONLY),
        (b"BAI\x01\x00\x00", "x is an index file (.bai or .csi)" + ONLY),
        (b"hello\tworld\n", "x is text that is not SAM" + ONLY),
        (b"r1\t0\tchr1\tNaN\t60\t4M\t*\t0\t0\tACGT\tIIII\n", "x is text that is not SAM" + ONLY),
        (b"\x00\x01\x02", "x is binary data of an unknown kind" + ONLY),
        (gzip.compress(b""), "x is gzip-compressed but empty once decompressed" + ONLY),
        (gzip.compress(b"\x00\xff" * 10), "x is gzip-compressed binary data of an unknown kind" + ONLY),
        (b"\x1f\x8b\x08\x00", "x is truncated or corrupt: it ends inside its first gzip block"),
        (b"\x1f\x8b\x08\x00" + b"\xff" * 40, "x is corrupt: its gzip data cannot be decompressed"),
        (
            gzip.compress(b"BAM\x01" + b"\x00" * 8),
            "x is a BAM compressed with plain gzip, not BGZF (samtools view -b rewrites it as a readable BAM)",
        ),
        (
            b"BAM\x01" + b"\x00" * 8,
            "x is an uncompressed BAM stream, not BGZF (samtools view -b rewrites it as a readable BAM)",
        ),
    ],
)
def test_anything_else_is_named_in_one_line(head: bytes, message: str) -> None:
    with pytest.raises(BamError) as caught:
        detect_format(head, "x")
    assert str(caught.value) == message

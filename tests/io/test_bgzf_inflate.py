"""BGZF inflation with libdeflate: the same bytes as zlib, damage and cuts as one line, other members handed on."""

from __future__ import annotations

import gzip
from pathlib import Path

import pysam
import pytest

from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.io.bgzf_inflate import NotBgzf, bgzf_pieces, libdeflate_available
from just_dna_pipelines.io.vcf_limits import ReadLimits
from just_dna_pipelines.io.vcf_stream import decompressed_chunks

ROOMY = ReadLimits(max_decompressed_bytes=1 << 30, max_line_bytes=1 << 20)
TEXT = b"".join(
    b"chr1\t%d\trs%d\tA\tG\t50\tPASS\tDP=%d\tGT\t0/1\n" % (i, i * 7, i % 97) for i in range(60_000)
)


def bgzipped(tmp_path: Path) -> Path:
    plain = tmp_path / "in.vcf"
    plain.write_bytes(TEXT)
    out = tmp_path / "in.vcf.gz"
    pysam.tabix_compress(str(plain), str(out))
    return out


def read_all(path: Path) -> bytes:
    return b"".join(decompressed_chunks(path, ROOMY))


def test_bgzf_reads_back_exactly(tmp_path: Path) -> None:
    path = bgzipped(tmp_path)
    assert read_all(path) == TEXT
    if libdeflate_available():
        pieces = list(bgzf_pieces(path))
        assert not any(isinstance(piece, NotBgzf) for piece in pieces)
        assert b"".join(pieces) == TEXT  # type: ignore[arg-type]


def test_a_plain_gzip_member_after_bgzf_blocks_is_read_too(tmp_path: Path) -> None:
    path = bgzipped(tmp_path)
    path.write_bytes(path.read_bytes() + gzip.compress(b"tail\n"))
    assert read_all(path) == TEXT + b"tail\n"


def test_a_damaged_block_and_a_cut_are_one_line(tmp_path: Path) -> None:
    path = bgzipped(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:5000] + bytes(b ^ 0x33 for b in data[5000:5100]) + data[5100:])
    with pytest.raises(VcfError, match=r"^in\.vcf\.gz is a damaged gzip file"):
        read_all(path)
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(VcfError, match=r"^in\.vcf\.gz is truncated"):
        read_all(path)

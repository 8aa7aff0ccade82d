"""Bounded reading: size and line limits hold before anything is buffered; gzip damage is one clear line."""

from __future__ import annotations

import gzip
import random
import tracemalloc
import zlib
from pathlib import Path

import pytest

from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.io.vcf_header import read_vcf_header
from just_dna_pipelines.io.vcf_limits import MIB, ReadLimits
from just_dna_pipelines.io.vcf_stream import bounded_lines, check_text_bounds, decompressed_chunks

ROOMY = ReadLimits(max_decompressed_bytes=1 << 30, max_line_bytes=MIB)


def gzip_bomb(path: Path, prefix: bytes, line_mib: int, suffix: bytes = b"\n") -> Path:
    """A small gzip whose text is `prefix`, then one line of `line_mib` MiB of 'A', then `suffix`."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [packer.compress(prefix)]
    block = b"A" * MIB
    parts += [packer.compress(block) for _ in range(line_mib)]
    parts += [packer.compress(suffix), packer.flush()]
    path.write_bytes(b"".join(parts))
    return path


def test_a_huge_header_line_is_refused_without_holding_it(tmp_path: Path) -> None:
    bomb = gzip_bomb(tmp_path / "bomb.vcf.gz", b"##fileformat=VCFv4.2\n##note=", 64)
    assert bomb.stat().st_size < 200_000
    tracemalloc.start()
    try:
        with pytest.raises(VcfError, match=r"bomb\.vcf\.gz has a line longer than 1 MB") as info:
            read_vcf_header(bomb, ROOMY)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * MIB  # the 64 MiB line was never held
    assert "\n" not in str(info.value) and str(tmp_path) not in str(info.value)


def test_a_huge_record_line_is_refused_by_the_full_check(tmp_path: Path) -> None:
    header = b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n1\t5\t.\tA\tG\t.\t.\t"
    bomb = gzip_bomb(tmp_path / "rec.vcf.gz", header, 8, b"\tGT\t0/1\n")
    with pytest.raises(VcfError, match="has a line longer than 1 MB"):
        check_text_bounds(bomb, ROOMY)


def test_decompressed_size_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "big.vcf.gz"
    path.write_bytes(gzip.compress(b"1\t5\t.\tA\tG\t.\t.\t.\tGT\t0/1\n" * 100_000))
    small = ReadLimits(max_decompressed_bytes=MIB, max_line_bytes=MIB)
    with pytest.raises(VcfError, match=r"big\.vcf\.gz decompresses to more than .* GB, so it is refused"):
        check_text_bounds(path, small)
    assert check_text_bounds(path, ROOMY).lines == 100_000


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data[: len(data) // 2], "is truncated"),
        (lambda data: data[:40] + bytes(b ^ 0x5A for b in data[40:200]) + data[200:], "damaged gzip"),
    ],
)
def test_gzip_damage_is_one_line(tmp_path: Path, damage, message: str) -> None:
    data = gzip.compress(b"".join(b"1\t%d\t.\tA\tG\t.\t.\t.\tGT\t0/1\n" % i for i in range(20_000)))
    path = tmp_path / "bad.vcf.gz"
    path.write_bytes(damage(data))
    with pytest.raises(VcfError, match=message) as info:
        check_text_bounds(path, ROOMY)
    assert "\n" not in str(info.value) and "Error -3" not in str(info.value)


def test_gzip_members_and_zero_padding_are_all_read(tmp_path: Path) -> None:
    path = tmp_path / "members.gz"
    path.write_bytes(gzip.compress(b"a\nb\n") + gzip.compress(b"c\n") + b"\0" * 64)
    assert list(bounded_lines(path, ROOMY)) == [b"a", b"b", b"c"]


def test_line_counts_match_a_plain_count_across_piece_boundaries(tmp_path: Path) -> None:
    rng = random.Random(7)
    lines = [
        rng.choice(["", "\r", "x" * rng.randint(1, 40), "y" * rng.randint(40, 900)]) for _ in range(3000)
    ]
    text = ("\r\n" if rng.random() < 0.5 else "\n").join(lines).encode() + b"tail-without-newline"
    path = tmp_path / "t.txt"
    path.write_bytes(text)
    tiny = ReadLimits(max_decompressed_bytes=1 << 30, max_line_bytes=1000)  # pieces of 1000 bytes
    assert {len(piece) for piece in decompressed_chunks(path, tiny)} <= set(range(1, 1001))
    shape = check_text_bounds(path, tiny)
    plain = text.split(b"\n")
    assert shape.size == len(text)
    assert shape.lines == len(plain)
    assert shape.blank_lines == sum(1 for line in plain[1:] if line in (b"", b"\r"))
    assert list(bounded_lines(path, tiny)) == [line.removesuffix(b"\r") for line in plain]


def test_a_line_at_the_limit_passes_and_one_byte_more_does_not(tmp_path: Path) -> None:
    limits = ReadLimits(max_decompressed_bytes=1 << 30, max_line_bytes=1000)
    ok, long = tmp_path / "ok.txt", tmp_path / "long.txt"
    ok.write_bytes(b"a\n" + b"x" * 1000 + b"\nb\n")
    long.write_bytes(b"a\n" + b"x" * 1001 + b"\nb\n")
    assert check_text_bounds(ok, limits).lines == 3
    with pytest.raises(VcfError, match="line longer than"):
        check_text_bounds(long, limits)
    with pytest.raises(VcfError, match="line longer than"):
        list(bounded_lines(long, limits))

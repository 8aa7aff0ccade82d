"""The fast path (C scanner + parallel ISA-L / libdeflate reader) is built, used, and agrees with pysam and the
fallbacks.

BGZF files are rebuilt here with zlib (`_bgzf`), independently of the readers under test, so block
sizes, empty blocks, a > 4 MiB compressed window and exact corruptions can be chosen.
"""

from __future__ import annotations

import array
import ctypes
import gzip
import hashlib
import random
import re
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pysam
import pytest

from just_dna_pipelines.bam.bgzf_parallel import ParallelBgzfReader, parallel_reader_available
from just_dna_pipelines.bam.buffer import AHEAD_RESERVE, READ_BYTES, DecompressedBuffer, DecompressingReader
from just_dna_pipelines.bam.chunk import ChunkStats, total_of
from just_dna_pipelines.bam.chunk_stats import (
    ProgressCallback,
    Scanner,
    iter_chunk_stats,
    open_reader,
    scanner_in_use,
)
from just_dna_pipelines.bam.header import skip_header
from just_dna_pipelines.bam.htslib import BgzfReader
from just_dna_pipelines.bam.native import (
    fast_path_description,
    inflater_in_use,
    isal_library,
    libdeflate,
    native_library,
)
from just_dna_pipelines.bam.records import MAX_BLOCK_SIZE
from just_dna_pipelines.bam.scan_native import native_chunk_batches
from just_dna_pipelines.bam.scan_python import python_chunk_batches
from just_dna_pipelines.bam.source import locate
from just_dna_pipelines.errors import BamError
from tests.bgzf_blocks import bgzf_blocks

from .conftest import HTSNEXUS, NA12878_S1, LoopbackServer, as_expected, genome, merged_batches, pysam_chunks

SCANNERS: tuple[Scanner, ...] = ("native", "python")
INFLATERS = ("libdeflate", "isal")
ISAL_HEADERS = Path("/usr/include/isa-l/igzip_lib.h")
EOF_BLOCK = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")  # SAM spec 4.1.2
MAX_PAYLOAD = 0xFF00  # what htslib puts in a block, leaving room for deflate's overhead within 64 KiB
_i32 = struct.Struct("<i")

Batches = Callable[[DecompressedBuffer, int, str], Iterator[list[ChunkStats]]]
_BATCHES: dict[Scanner, Batches] = {"native": native_chunk_batches, "python": python_chunk_batches}


# --- BGZF and BAM bytes, built and parsed here ---------------------------------------------------------


def _bgzf_block(payload: bytes, level: int = 1) -> bytes:
    """One BGZF block: gzip header with the BC subfield (BSIZE), raw deflate, CRC32, ISIZE."""
    deflater = zlib.compressobj(level, zlib.DEFLATED, -15)
    deflated = deflater.compress(payload) + deflater.flush()
    bsize = 18 + len(deflated) + 8
    header = struct.pack("<4BIBBHBBHH", 31, 139, 8, 4, 0, 0, 255, 6, ord("B"), ord("C"), 2, bsize - 1)
    return header + deflated + struct.pack("<II", zlib.crc32(payload), len(payload))


def _bgzf(raw: bytes, *, seed: int = 1, level: int = 1, empty_every: int = 0) -> bytes:
    """`raw` in blocks of random sizes (so records straddle blocks), optionally with empty blocks between."""
    rng = random.Random(seed)
    blocks, at = [], 0
    while at < len(raw):
        size = rng.randrange(1, MAX_PAYLOAD + 1)
        blocks.append(_bgzf_block(raw[at : at + size], level))
        at += size
        if empty_every and len(blocks) % empty_every == 0:
            blocks.append(_bgzf_block(b"", level))
    return b"".join(blocks) + EOF_BLOCK


def _record_offsets(raw: bytes) -> list[int]:
    """Where each alignment record starts in a decompressed BAM stream (after the header)."""
    pos = 8 + _i32.unpack_from(raw, 4)[0]
    n_ref = _i32.unpack_from(raw, pos)[0]
    pos += 4
    for _ in range(n_ref):
        pos += 4 + _i32.unpack_from(raw, pos)[0] + 4
    offsets = []
    while pos < len(raw):
        offsets.append(pos)
        pos += 4 + _i32.unpack_from(raw, pos)[0]
    return offsets


def _drained(reader: DecompressingReader, size: int = READ_BYTES, *, ahead: bool = False) -> bytes:
    """The whole decompressed stream, read through a DecompressedBuffer."""
    data, parts = DecompressedBuffer(reader, size, ahead=ahead), []
    while data.fill():
        parts.append(data.view())
        data.consume(data.end)
    return b"".join(parts)


def _stats(
    path: Path | str,
    chunk_size: int = 1000,
    *,
    scanner: Scanner = "auto",
    threads: int = 2,
    on_progress: ProgressCallback | None = None,
) -> list[ChunkStats]:
    """All chunk stats of a BAM path or URL."""
    location = locate(str(path))
    return list(
        iter_chunk_stats(location, chunk_size, scanner=scanner, threads=threads, on_progress=on_progress)
    )


@pytest.fixture(scope="module")
def reblocked_htsnexus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The htsnexus BAM stored uncompressed in random-size blocks plus empty ones: > 4 MiB compressed."""
    path = tmp_path_factory.mktemp("reblocked") / "htsnexus_reblocked.bam"
    path.write_bytes(_bgzf(gzip.decompress(genome(HTSNEXUS).read_bytes()), level=0, empty_every=7))
    return path


@pytest.fixture(scope="module")
def small_reblocked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The header and first 4,000 reads of the htsnexus BAM in random-size blocks (records straddle them)."""
    raw = gzip.decompress(genome(HTSNEXUS).read_bytes())
    path = tmp_path_factory.mktemp("small") / "htsnexus_4000.bam"
    path.write_bytes(_bgzf(raw[: _record_offsets(raw)[4000]], seed=7, empty_every=5))
    return path


# --- 1. the fast path is there ---------------------------------------------------------------------------


def _tiny_bam(path: Path) -> Path:
    """A one-read BAM written by pysam (so these checks need no fixtures)."""
    header = {"HD": {"VN": "1.6"}, "SQ": [{"SN": "chr1", "LN": 1000}]}
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        read = pysam.AlignedSegment(out.header)
        read.query_name, read.query_sequence, read.flag = "r1", "ACGT", 4
        out.write(read)
    return path


def test_the_fast_path_is_built_and_used(tmp_path: Path) -> None:
    not_built = "the C extension just_dna_pipelines.bam._native did not build (is a C compiler installed?)"
    assert native_library() is not None, not_built
    assert libdeflate() is not None, "libdeflate (Debian libdeflate0, a samtools dependency) is not loadable"
    assert parallel_reader_available()
    assert scanner_in_use() == "native", not_built
    inflater = "ISA-L" if inflater_in_use() == "isal" else "libdeflate"
    assert fast_path_description() == f"parallel {inflater} reader for local files + C scanner"
    if ISAL_HEADERS.exists():  # scripts/test installs libisal-dev before `uv sync` builds the package
        assert isal_library() is not None and inflater_in_use() == "isal", "csrc/isal_inflate.c did not build"
    reader = open_reader(locate(str(_tiny_bam(tmp_path / "tiny.bam"))))
    try:
        assert isinstance(reader, ParallelBgzfReader)
    finally:
        reader.close()


# --- 2. both scanners equal pysam; thread counts agree --------------------------------------------------


@pytest.mark.parametrize("name", [HTSNEXUS, NA12878_S1])
@pytest.mark.parametrize("chunk_size", [1, 1000, 100_000])
def test_native_and_python_scanners_equal_pysam(name: str, chunk_size: int) -> None:
    path = genome(name)
    native = _stats(path, chunk_size, scanner="native")
    assert native == _stats(path, chunk_size, scanner="python")  # unplaced counts included
    assert [as_expected(c) for c in native] == pysam_chunks(path, chunk_size)


@pytest.mark.parametrize("threads", [1, 2, 3, 8])
def test_every_thread_count_gives_the_same_chunks(threads: int, reblocked_htsnexus: Path) -> None:
    """The fixture as written by htslib, and re-blocked so blocks straddle the 4 MiB compressed window."""
    expected = pysam_chunks(genome(HTSNEXUS), 1000)
    assert [as_expected(c) for c in _stats(genome(HTSNEXUS), threads=threads)] == expected
    assert [as_expected(c) for c in _stats(reblocked_htsnexus, threads=threads)] == expected
    assert [as_expected(c) for c in _stats(genome(NA12878_S1), threads=threads)] == pysam_chunks(
        genome(NA12878_S1), 1000
    )


# --- 3. both readers inflate the same bytes --------------------------------------------------------------


def _needs(inflater: str) -> None:
    """Skip an ISA-L case where ISA-L was not built in (libdeflate is always there with samtools)."""
    if inflater == "isal" and isal_library() is None:
        pytest.skip("ISA-L's inflate is not built here (install libisal-dev, then reinstall the package)")


@pytest.mark.parametrize("inflater", INFLATERS)
@pytest.mark.parametrize("which", ["htsnexus", "na12878", "reblocked"])
def test_parallel_and_htslib_readers_inflate_identical_bytes(
    which: str, inflater: str, reblocked_htsnexus: Path
) -> None:
    _needs(inflater)
    path = {"htsnexus": genome(HTSNEXUS), "na12878": genome(NA12878_S1), "reblocked": reblocked_htsnexus}[
        which
    ]
    python_zlib = hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest()
    with ParallelBgzfReader(path, threads=3, inflater=inflater) as parallel:
        assert hashlib.sha256(_drained(parallel)).hexdigest() == python_zlib
    with ParallelBgzfReader(path, threads=2, inflater=inflater) as parallel:
        assert hashlib.sha256(_drained(parallel, ahead=True)).hexdigest() == python_zlib
    with BgzfReader(str(path), threads=2) as htslib:
        assert hashlib.sha256(_drained(htslib)).hexdigest() == python_zlib


def test_isal_states_start_clean_on_reused_heap_memory(tmp_path: Path) -> None:
    """Each ISA-L state is initialised, not only reset: reset leaves the history window size as it was, so a state
    on heap memory holding a small number there failed blocks with far back-references (seen as 'fails its
    checksum' on a whole-genome VCF)."""
    _needs("isal")
    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    rng = random.Random(5)
    words = [f"rs{rng.randrange(10**8)}\t{rng.choice('ACGT')}\t{rng.choice('ACGT')}" for _ in range(400)]
    raw = "".join(f"chr1\t{i}\t{rng.choice(words)}\t50\tPASS\tGT\t0/1\n" for i in range(60_000)).encode()
    path = tmp_path / "text.gz"
    path.write_bytes(_bgzf(raw, level=6))
    small = array.array("i", [9]) * (96_000 // 4)  # a 512-byte window, were it read as one
    for _ in range(3):
        garbage = [libc.malloc(96_000) for _ in range(8)]  # about an inflate state's size, then freed
        for address in garbage:
            ctypes.memmove(address, small.tobytes(), 96_000)
        for address in garbage:
            libc.free(address)
        with ParallelBgzfReader(path, 2, inflater="isal") as reader:
            assert _drained(reader, ahead=True) == raw


# --- 4. buffer growth ------------------------------------------------------------------------------------


def _read(
    header: pysam.AlignmentHeader, name: str, length: int, ref: int, pos: int, flag: int, mapq: int
) -> pysam.AlignedSegment:
    """A read of `length` bases; unmapped ones (flag 4) get no CIGAR."""
    read = pysam.AlignedSegment(header)
    read.query_name = name
    read.query_sequence = "ACGT" * (length // 4)
    read.query_qualities = array.array("B", [30]) * (length // 4 * 4)
    read.reference_id, read.reference_start, read.flag, read.mapping_quality = ref, pos, flag, mapq
    if not flag & 4:
        read.cigarstring = f"{length // 4 * 4}M"
    return read


@pytest.fixture(scope="module")
def oversized_bam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A header and two reads each larger than the 4 MiB buffer, among small mapped / unmapped reads."""
    path = tmp_path_factory.mktemp("oversized") / "oversized.bam"
    header = {
        "HD": {"VN": "1.6", "SO": "unsorted"},
        "SQ": [{"SN": f"contig{i:05d}", "LN": 10_000_000} for i in range(3000)],
        "CO": ["x" * 4_500_000],
    }
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        h = out.header
        for read in (
            _read(h, "huge_mapped", 4_000_000, 0, 0, 0, 60),  # first record, right after the huge header
            _read(h, "mapped", 100, 1, 1000, 0, 20),
            _read(h, "unmapped_placed", 100, 1, 1000, 4, 0),
            _read(h, "unplaced", 100, -1, -1, 4, 0),
            _read(h, "huge_reverse", 3_000_000, 2999, 500, 16, 255),
            _read(h, "mapped_last_contig", 100, 2999, 9_999_000, 0, 7),
            _read(h, "unplaced_last", 100, -1, -1, 4, 0),
        ):
            out.write(read)
    return path


def test_the_oversized_bam_really_exceeds_the_buffer(oversized_bam: Path) -> None:
    raw = gzip.decompress(oversized_bam.read_bytes())
    offsets = _record_offsets(raw)
    assert offsets[0] > READ_BYTES  # the header
    sizes = [_i32.unpack_from(raw, at)[0] for at in offsets]
    assert sum(size > READ_BYTES for size in sizes) == 2


@pytest.mark.parametrize("scanner", SCANNERS)
@pytest.mark.parametrize("threads", [1, 8])
def test_header_and_records_larger_than_the_buffer(
    scanner: Scanner, threads: int, oversized_bam: Path
) -> None:
    for chunk_size in (1, 3, 1000):
        chunks = _stats(oversized_bam, chunk_size, scanner=scanner, threads=threads)
        assert [as_expected(c) for c in chunks] == pysam_chunks(oversized_bam, chunk_size)
    total = total_of(chunks)
    assert (total.total_reads, total.mapped_reads, total.unplaced_reads) == (7, 4, 2)
    assert (total.mapq_sum, total.position_min, total.position_max) == (60 + 20 + 255 + 7, 1, 9_999_001)


# (reader, scanner, initial size, whether it must grow: a record / the header / a whole block does not fit)
_SMALL_BUFFERS = [
    ("htslib", "native", 1, True),
    ("htslib", "python", 3_000, True),
    ("htslib", "native", 70_001, False),
    ("parallel", "native", 65_536, True),
    ("parallel", "python", 65_536, True),
    ("parallel", "native", 100_003, False),
]


@pytest.mark.parametrize(("reader_kind", "scanner", "size", "grows"), _SMALL_BUFFERS)
def test_small_buffers_grow_and_give_the_same_chunks(
    reader_kind: str, scanner: Scanner, size: int, grows: bool, small_reblocked: Path
) -> None:
    """Records straddle the random-size blocks, so they also straddle every buffer refill."""
    expected = pysam_chunks(small_reblocked, 100)
    reader: DecompressingReader = (
        ParallelBgzfReader(small_reblocked, 2)
        if reader_kind == "parallel"
        else BgzfReader(str(small_reblocked), 2)
    )
    try:
        data = DecompressedBuffer(reader, size)
        skip_header(data, str(small_reblocked))
        chunks = merged_batches(_BATCHES[scanner](data, 100, str(small_reblocked)))
    finally:
        reader.close()
    assert [as_expected(c) for c in chunks] == expected
    assert (len(data.data) > size) == grows


@pytest.mark.parametrize("scanner", SCANNERS)
@pytest.mark.parametrize("size", [65_536, 100_003, READ_BYTES])
def test_reading_ahead_gives_the_same_chunks(scanner: Scanner, size: int, small_reblocked: Path) -> None:
    """Two buffers taking turns: records cut by every read are carried into the other buffer whole."""
    expected = pysam_chunks(small_reblocked, 100)
    with ParallelBgzfReader(small_reblocked, 2) as reader:
        data = DecompressedBuffer(reader, size, ahead=True)
        skip_header(data, str(small_reblocked))
        chunks = merged_batches(_BATCHES[scanner](data, 100, str(small_reblocked)))
    assert [as_expected(c) for c in chunks] == expected
    assert len(data.data) == size + AHEAD_RESERVE  # no record needed more room than the reserve


@pytest.mark.parametrize("scanner", SCANNERS)
def test_reading_ahead_grows_for_a_header_and_records_beyond_the_reserve(
    scanner: Scanner, oversized_bam: Path
) -> None:
    expected = pysam_chunks(oversized_bam, 1)
    with ParallelBgzfReader(oversized_bam, 2) as reader:
        data = DecompressedBuffer(reader, 100_003, ahead=True)
        skip_header(data, str(oversized_bam))
        chunks = merged_batches(_BATCHES[scanner](data, 1, str(oversized_bam)))
    assert [as_expected(c) for c in chunks] == expected
    assert len(data.data) > 4_000_000  # the 4 MB read moved into a grown buffer


def test_closing_the_reader_waits_for_its_read_ahead(reblocked_htsnexus: Path) -> None:
    """The reader may be closed (an error upstream) while it inflates the next buffer: it waits, then frees."""
    for _ in range(20):
        reader = ParallelBgzfReader(reblocked_htsnexus, 2)
        data = DecompressedBuffer(reader, 65_536, ahead=True)
        assert data.fill()  # the next read is now in flight
        reader.close()
        assert data._next is not None and data._next.done()


def test_a_buffer_smaller_than_a_bgzf_block_grows_for_the_parallel_reader(small_reblocked: Path) -> None:
    with ParallelBgzfReader(small_reblocked, 2) as reader:
        streamed = _drained(reader, size=1_000)
    assert streamed == gzip.decompress(small_reblocked.read_bytes())


@pytest.mark.parametrize("scanner", SCANNERS)
def test_a_header_only_bam_has_no_chunks(scanner: Scanner, tmp_path: Path) -> None:
    path = tmp_path / "header_only.bam"
    with pysam.AlignmentFile(str(path), "wb", header={"SQ": [{"SN": "chr1", "LN": 10}]}):
        pass
    assert _stats(path, scanner=scanner) == []


# --- 5. corruption ---------------------------------------------------------------------------------------

_BLOCK = 20  # a block in the middle of the htsnexus BAM (165 blocks)


def _corrupted(kind: str) -> tuple[bytes, int]:
    """The htsnexus BAM with one block damaged, and that block's compressed offset."""
    data = bytearray(genome(HTSNEXUS).read_bytes())
    start, size = bgzf_blocks(bytes(data))[_BLOCK]
    at = {
        "deflate_payload": start + 18 + size // 2,
        "crc32": start + size - 8,
        "isize": start + size - 1,  # ISIZE > 64 KiB
        "gzip_magic": start,
        "bsize": start + 17,  # BSIZE's high byte: the block seems to end elsewhere
    }[kind]
    data[at] ^= 0x01 if kind != "deflate_payload" else 0xFF
    return bytes(data), start


_DAMAGE = ["deflate_payload", "crc32", "isize", "gzip_magic", "bsize"]


@pytest.mark.parametrize("scanner", SCANNERS)
@pytest.mark.parametrize("kind", _DAMAGE)
def test_a_damaged_bgzf_block_is_corrupt(kind: str, scanner: Scanner, tmp_path: Path) -> None:
    data, start = _corrupted(kind)
    path = tmp_path / "damaged.bam"
    path.write_bytes(data)
    with pytest.raises(
        BamError, match=rf"^{re.escape(str(path))} is corrupt: .*BGZF block at compressed offset {start:,}"
    ) as err:
        _stats(path, scanner=scanner)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("kind", [k for k in _DAMAGE if k != "isize"])  # htslib trusts the CRC, not ISIZE
def test_a_damaged_bgzf_block_over_http_is_corrupt(kind: str, http_folder: LoopbackServer) -> None:
    (http_folder.root / "damaged.bam").write_bytes(_corrupted(kind)[0])
    with pytest.raises(BamError, match="corrupt"):
        _stats(http_folder.url("damaged.bam"))


def _with_block_size(tmp_path: Path, record: int, block_size: int) -> Path:
    """The htsnexus BAM with one record's block_size overwritten, re-compressed."""
    raw = bytearray(gzip.decompress(genome(HTSNEXUS).read_bytes()))
    _i32.pack_into(raw, _record_offsets(bytes(raw))[record], block_size)
    path = tmp_path / "bad_record.bam"
    path.write_bytes(_bgzf(bytes(raw), level=0))
    return path


@pytest.mark.parametrize("scanner", SCANNERS)
@pytest.mark.parametrize("block_size", [31, 0, -1])
def test_a_record_shorter_than_its_fixed_part_is_corrupt(
    scanner: Scanner, block_size: int, tmp_path: Path
) -> None:
    path = _with_block_size(tmp_path, 30_000, block_size)  # in the second 4 MiB buffer
    message = rf"^{re.escape(str(path))} is corrupt: read record 30,001 claims {block_size} bytes, fewer than the 32"
    with pytest.raises(BamError, match=message):
        _stats(path, scanner=scanner)


@pytest.mark.parametrize("scanner", SCANNERS)
def test_a_record_claiming_more_bytes_than_the_file_is_truncated(scanner: Scanner, tmp_path: Path) -> None:
    path = _with_block_size(tmp_path, 39_000, MAX_BLOCK_SIZE)
    with pytest.raises(BamError, match="truncated: it ends inside a read record"):
        _stats(path, scanner=scanner)


@pytest.mark.parametrize("scanner", SCANNERS)
@pytest.mark.parametrize("block_size", [MAX_BLOCK_SIZE + 1, 200 << 20, 2**31 - 1])
def test_a_record_claiming_more_than_any_read_takes_is_corrupt_before_it_is_read(
    scanner: Scanner, block_size: int, tmp_path: Path
) -> None:
    """The buffer grew to hold the claimed record: 200 MB of bytes after such a claim took 880 MB, and were read
    as one record."""
    raw = bytearray(gzip.decompress(genome(HTSNEXUS).read_bytes()))
    _i32.pack_into(raw, _record_offsets(bytes(raw))[30_000], block_size)
    path = tmp_path / "huge_record.bam"
    path.write_bytes(
        _bgzf(bytes(raw) + bytes(70 << 20), level=1)
    )  # more bytes than the limit after the claim
    message = rf"^{re.escape(str(path))} is corrupt: read record 30,001 claims {block_size:,} bytes, more than the 64 MB"
    with pytest.raises(BamError, match=message):
        _stats(path, scanner=scanner)


def _cut_inside_a_block() -> bytes:
    """The htsnexus BAM cut in the middle of a block, with a valid EOF marker appended."""
    data = genome(HTSNEXUS).read_bytes()
    start, size = bgzf_blocks(data)[_BLOCK]
    return data[: start + size // 2] + EOF_BLOCK


@pytest.mark.parametrize("scanner", SCANNERS)
def test_a_block_cut_short_before_an_eof_marker_is_truncated(scanner: Scanner, tmp_path: Path) -> None:
    path = tmp_path / "cut.bam"
    path.write_bytes(_cut_inside_a_block())
    with pytest.raises(
        BamError, match=rf"^{re.escape(str(path))} is truncated: it ends inside a BGZF block$"
    ):
        _stats(path, scanner=scanner)


def test_a_block_cut_short_before_an_eof_marker_over_http_is_truncated(http_folder: LoopbackServer) -> None:
    (http_folder.root / "cut.bam").write_bytes(_cut_inside_a_block())
    with pytest.raises(BamError, match="truncated"):
        _stats(http_folder.url("cut.bam"))


def _not_bgzf(kind: str) -> bytes:
    """Bytes that a BGZF reader must refuse at open."""
    payload = b"BAM\x01" + b"\x00" * 100
    if kind == "text":
        return b"@HD\tVN:1.6\nr1\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\t####\n" + EOF_BLOCK
    if kind == "gzip":
        return gzip.compress(payload) + EOF_BLOCK
    if kind == "gzip_other_extra":  # FEXTRA set, but its subfield is not BGZF's BC
        block = bytearray(_bgzf_block(payload))
        block[12:14] = b"XY"
        return bytes(block) + EOF_BLOCK
    return b"\x1f\x8b\x08\x04"  # a gzip magic and nothing else


@pytest.mark.parametrize("reader_kind", ["parallel", "htslib"])
@pytest.mark.parametrize("kind", ["text", "gzip", "gzip_other_extra", "four_bytes"])
def test_readers_reject_what_is_not_bgzf(reader_kind: str, kind: str, tmp_path: Path) -> None:
    path = tmp_path / "input.bam"
    path.write_bytes(_not_bgzf(kind))
    with pytest.raises(
        BamError, match=rf"^{re.escape(str(path))} is not a BAM file \(it is not BGZF-compressed\)$"
    ):
        ParallelBgzfReader(path) if reader_kind == "parallel" else BgzfReader(str(path))


@pytest.mark.parametrize("reader_kind", ["parallel", "htslib"])
def test_readers_require_the_eof_marker(reader_kind: str, tmp_path: Path) -> None:
    path = tmp_path / "no_eof.bam"
    path.write_bytes(_tiny_bam(tmp_path / "tiny.bam").read_bytes()[: -len(EOF_BLOCK)])
    with pytest.raises(BamError, match="truncated: the BGZF end-of-file marker is missing"):
        ParallelBgzfReader(path) if reader_kind == "parallel" else BgzfReader(str(path))


def test_an_eof_marker_alone_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "eof_only.bam"
    path.write_bytes(EOF_BLOCK)
    with pytest.raises(BamError, match="is BGZF-compressed but empty once decompressed"):
        _stats(path)


@pytest.mark.parametrize("scanner", SCANNERS)
def test_a_bam_magic_without_its_header_is_truncated(scanner: Scanner, tmp_path: Path) -> None:
    path = tmp_path / "magic_only.bam"
    path.write_bytes(_bgzf(b"BAM\x01\x10\x00\x00\x00@HD"))
    with pytest.raises(BamError, match="truncated: the BAM header is incomplete"):
        _stats(path, scanner=scanner)


@pytest.mark.parametrize("inflater", INFLATERS)
@pytest.mark.parametrize("kind", ["deflate_payload", "crc32"])
@pytest.mark.parametrize("ahead", [False, True])
def test_each_inflater_finds_the_damaged_block(kind: str, inflater: str, ahead: bool, tmp_path: Path) -> None:
    _needs(inflater)
    data, start = _corrupted(kind)
    path = tmp_path / "damaged.bam"
    path.write_bytes(data)
    with (
        ParallelBgzfReader(path, 2, inflater=inflater) as reader,
        pytest.raises(BamError, match=rf"is corrupt: .*BGZF block at compressed offset {start:,}"),
    ):
        _drained(reader, 65_536, ahead=ahead)


# --- 6. progress -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["htsnexus", "reblocked"])
def test_progress_is_monotonic_up_to_the_file_size(which: str, reblocked_htsnexus: Path) -> None:
    path = genome(HTSNEXUS) if which == "htsnexus" else reblocked_htsnexus
    calls: list[tuple[int, int]] = []
    chunks = _stats(path, 1, threads=3, on_progress=lambda reads, done: calls.append((reads, done)))
    reads, done = [c[0] for c in calls], [c[1] for c in calls]
    assert reads == sorted(reads) and reads[-1] == len(chunks) == 39_918
    assert done == sorted(done) and done[0] > 0
    assert path.stat().st_size - len(EOF_BLOCK) <= done[-1] <= path.stat().st_size
    if which == "reblocked":  # > 4 MiB compressed: progress is reported as the file is read
        assert len(set(done)) > 2

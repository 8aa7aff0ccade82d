"""CRAM and SAM (plain, gzip, BGZF) stream through htslib with the same chunk stats as the BAM they came from."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import pytest

from just_dna_pipelines.bam.chunk import ChunkStats, total_of
from just_dna_pipelines.bam.chunk_stats import Scanner, iter_chunk_stats
from just_dna_pipelines.bam.formats import AlignmentFormat
from just_dna_pipelines.bam.hts_records import HtsRecordReader
from just_dna_pipelines.bam.scan_native import ROWS
from just_dna_pipelines.bam.scan_records import native_record_batches, python_record_batches
from just_dna_pipelines.bam.source import detect, locate
from just_dna_pipelines.defs.bam import StreamingBamChunkStreamer
from just_dna_pipelines.errors import BamError

from .conftest import (
    DerivedAlignments,
    as_expected,
    corpus,
    flagstat_total,
    merged_batches,
    pysam_chunks,
    samtools,
    samtools_chunks,
    serve_folder,
)

SCANNERS: list[Scanner] = ["native", "python"]
RANGE_CRAM = "htslib__test__range.cram"
RANGE_BAM = "htslib__test__range.bam"
EMBEDDED_REF_CRAM = "nucleus__nucleus__testdata__test_cram.embed_ref_1_version_3.0.cram"


def _stats(path: Path | str, chunk_size: int = 1000, scanner: Scanner = "auto") -> list[ChunkStats]:
    return list(iter_chunk_stats(locate(str(path)), chunk_size, scanner=scanner))


@pytest.mark.parametrize("scanner", SCANNERS)
@pytest.mark.parametrize("kind", ["cram", "sam", "sam_gz", "sam_bgzf"])
def test_cram_and_sam_give_the_chunks_of_their_bam(
    kind: str, scanner: Scanner, derived: DerivedAlignments
) -> None:
    chunks = _stats(derived.all()[kind], 1000, scanner)
    assert chunks == _stats(derived.bam, 1000)  # every figure, unplaced reads included
    assert [as_expected(c) for c in chunks] == pysam_chunks(derived.bam, 1000)
    assert total_of(chunks).total_reads == flagstat_total(derived.all()[kind]) == 52_035


@pytest.mark.parametrize(
    ("kind", "described"),
    [
        ("cram", "CRAM 3.0"),
        ("sam", "SAM"),
        ("sam_gz", "SAM (gzip-compressed)"),
        ("sam_bgzf", "SAM (BGZF-compressed)"),
    ],
)
def test_the_format_comes_from_the_bytes_not_the_name(
    kind: str, described: str, derived: DerivedAlignments, tmp_path: Path
) -> None:
    misnamed = tmp_path / "reads.bam"
    misnamed.symlink_to(derived.all()[kind])
    assert detect(locate(str(misnamed))).describe() == described
    assert _stats(misnamed) == _stats(derived.bam)


# (reads per call, chunk size): calls that stop mid-chunk, on a chunk boundary, or when the C loop's row
# table is full (one-read chunks and a large read budget)
SPLITS = [(calls, size) for calls in (1, 7, 1000, 1 << 18) for size in (333, 52_035, 100_000)]


@pytest.mark.parametrize(("reads_per_call", "chunk_size"), [*SPLITS, (7, 1), (1000, 1), (1 << 18, 1)])
def test_record_batches_can_end_anywhere(
    reads_per_call: int, chunk_size: int, derived: DerivedAlignments
) -> None:
    """The same chunks however the reads are split between calls."""
    expected = _stats(derived.bam, chunk_size)
    location = locate(str(derived.cram))
    calls = {}
    for scan in (native_record_batches, python_record_batches):
        with HtsRecordReader(str(derived.cram), detect(location)) as reader:
            batches = list(scan(reader, chunk_size, reads_per_call))
        assert merged_batches(batches) == expected, scan.__name__
        calls[scan] = len(batches)
    if chunk_size == 1 and reads_per_call > ROWS:  # the C loop's rows fill up before its read budget is spent
        assert calls[native_record_batches] == -(-52_035 // ROWS)


def test_range_cram_equals_the_bam_of_the_same_reads() -> None:
    """htslib's own test CRAM, whose reference (C. elegans) is not on this machine."""
    cram, bam = corpus(RANGE_CRAM), corpus(RANGE_BAM)
    for scanner in SCANNERS:
        assert _stats(cram, 10, scanner) == _stats(bam, 10)
    assert [as_expected(c) for c in _stats(cram, 10)] == samtools_chunks(cram, 10)[0]


def test_a_cram_with_an_embedded_reference() -> None:
    cram = corpus(EMBEDDED_REF_CRAM)
    chunks = _stats(cram, 2)
    assert [as_expected(c) for c in chunks] == samtools_chunks(cram, 2)[0]
    assert total_of(chunks).total_reads == 3


def test_no_reference_is_looked_for(
    derived: DerivedAlignments, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """REF_PATH points at a loopback server that logs requests: streaming asks it nothing, decoding bases does."""
    with serve_folder(tmp_path / "references") as trap:
        monkeypatch.setenv("REF_PATH", f"{trap.base_url}/%s")
        monkeypatch.setenv("REF_CACHE", str(tmp_path / "ref_cache" / "%s"))
        for cram in (derived.cram, corpus(RANGE_CRAM)):
            chunks = _stats(cram)
            assert total_of(chunks).total_reads == flagstat_total(cram)
        assert trap.requests == []
        # The trap works: a full decode (samtools view, which needs the bases) asks it for the reference.
        decoded = subprocess.run([samtools(), "view", str(derived.cram)], capture_output=True, check=False)
        assert decoded.returncode != 0
        assert [line for line in trap.requests if line.startswith("GET /")]
    assert not (tmp_path / "ref_cache").exists()


def test_a_cut_cram_is_truncated(derived: DerivedAlignments, tmp_path: Path) -> None:
    data = derived.cram.read_bytes()
    cut = tmp_path / "cut.cram"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(BamError) as caught:
        _stats(cut)
    assert str(caught.value) == f"{cut} is truncated: the CRAM end-of-file container is missing"


def _container_offsets(cram: Path) -> list[int]:
    """Where the CRAM's data containers start, from its .crai (column 4)."""
    rows = gzip.decompress(cram.with_name(cram.name + ".crai").read_bytes()).decode().splitlines()
    return sorted({int(row.split("\t")[3]) for row in rows})


@pytest.mark.parametrize("scanner", SCANNERS)
@pytest.mark.parametrize("damage_at", [4, 8, 20, 40])
def test_a_damaged_container_is_corrupt_not_the_end(
    scanner: Scanner, damage_at: int, derived: DerivedAlignments, tmp_path: Path
) -> None:
    """Two bytes flipped in the second container's header: htslib's threaded reader took it for the end."""
    data = bytearray(derived.cram.read_bytes())
    at = _container_offsets(derived.cram)[1] + damage_at
    data[at : at + 2] = bytes(b ^ 0xFF for b in data[at : at + 2])
    damaged = tmp_path / "damaged.cram"
    damaged.write_bytes(bytes(data))
    with pytest.raises(BamError) as caught:
        _stats(damaged, scanner=scanner)
    assert str(caught.value) == f"{damaged} is corrupt: the CRAM data after record 10,000 cannot be decoded"


def test_a_cut_bgzf_sam_is_truncated(derived: DerivedAlignments, tmp_path: Path) -> None:
    data = derived.sam_bgzf.read_bytes()
    cut = tmp_path / "cut.sam.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(BamError, match=r"cut\.sam\.gz is truncated: the BGZF end-of-file marker is missing$"):
        _stats(cut)


HEADER = "@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:1000\n"
GOOD = "r1\t0\tchr1\t100\t60\t4M\t*\t0\t0\tACGT\tIIII\n"


@pytest.mark.parametrize("scanner", SCANNERS)
@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEADER + GOOD + GOOD.replace("\t100\t", "\tabc\t"), "line 4 is not a valid SAM record"),
        (HEADER + GOOD + "r2\t0\tchr1\t5\n", "line 4 is not a valid SAM record"),
        (
            "@HD\tVN:1.6\n" + GOOD,
            "line 2 is not a valid SAM record (the header has no @SQ lines, so no read can name a reference)",
        ),
    ],
)
def test_a_bad_sam_line_is_named(scanner: Scanner, text: str, message: str, tmp_path: Path) -> None:
    for name, data in (("bad.sam", text.encode()), ("bad.sam.gz", gzip.compress(text.encode()))):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(BamError) as caught:
            _stats(path, scanner=scanner)
        assert str(caught.value) == f"{path}: {message}"


def test_sam_reads_without_sq_lines_are_unplaced_unmapped(tmp_path: Path) -> None:
    """An unaligned SAM (no @SQ, every read unmapped) is valid: all reads unplaced."""
    path = tmp_path / "unaligned.sam"
    path.write_text("@HD\tVN:1.6\n" + "r1\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\tIIII\n" * 3)
    assert _stats(path) == [ChunkStats(1, 3, 0, 0, None, None, 3)]


def test_progress_reaches_the_file_size(derived: DerivedAlignments) -> None:
    for path in derived.all().values():
        with HtsRecordReader(str(path), detect(locate(str(path)))) as reader:
            done = [reader.compressed_offset() for _ in native_record_batches(reader, 1000, 5000)]
        assert done == sorted(done) and done[0] > 0, path.name
        assert done[-1] == path.stat().st_size, path.name


def test_indexes_by_format(derived: DerivedAlignments) -> None:
    streamer = StreamingBamChunkStreamer(require_index=True)
    # a .crai holds no read counts; a BGZF SAM's .bai does, and they are checked against the stream
    assert streamer.open_stream(str(derived.cram), 1000).index_reads is None
    stream = streamer.open_stream(str(derived.sam_bgzf), 1000)
    assert stream.index_reads == 52_035
    assert stream.file_info(sum(len(b.chunks) for b in stream.batches())).total_reads == 52_035
    for path in (derived.sam, derived.sam_gz):
        described = detect(locate(str(path))).describe()
        with pytest.raises(BamError) as caught:
            streamer.open_stream(str(path), 1000)
        assert (
            str(caught.value)
            == f"{path} is {described}, which cannot be indexed, and this streamer requires an index"
        )


def test_htslib_reads_only_cram_and_sam(derived: DerivedAlignments) -> None:
    bam = detect(locate(str(derived.bam)))
    assert bam.format is AlignmentFormat.BAM
    with pytest.raises(ValueError, match="not BAM"):
        HtsRecordReader(str(derived.bam), bam)

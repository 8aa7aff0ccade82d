"""Per-chunk statistics of real BAMs equal an independent pysam count, chunk by chunk and in total."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pysam
import pytest

from just_dna_pipelines.bam.chunk import total_of
from just_dna_pipelines.bam.chunk_stats import iter_chunk_stats
from just_dna_pipelines.bam.source import locate
from just_dna_pipelines.errors import BamError

from .conftest import HTSNEXUS, NA12878_S1, as_expected, genome, pysam_chunks


@pytest.mark.parametrize("name", [HTSNEXUS, NA12878_S1])
@pytest.mark.parametrize("chunk_size", [1000, 777, 100_000])
def test_every_chunk_matches_a_plain_pysam_count(name: str, chunk_size: int) -> None:
    path = genome(name)
    ours = [as_expected(c) for c in iter_chunk_stats(locate(str(path)), chunk_size)]
    assert ours == pysam_chunks(path, chunk_size)


def test_htsnexus_totals_match_the_published_counts_and_samtools() -> None:
    path = genome(HTSNEXUS)
    chunks = list(iter_chunk_stats(locate(str(path)), 1000))
    total = total_of(chunks)
    assert (total.total_reads, total.mapped_reads, total.unplaced_reads) == (39_918, 27_214, 12_475)
    assert len(chunks) == 40 and chunks[-1].total_reads == 918
    assert [c.chunk_id for c in chunks] == list(range(1, 41))
    assert int(pysam.samtools.view("-c", str(path)).strip()) == total.total_reads
    assert int(pysam.samtools.view("-c", "-F", "4", str(path)).strip()) == total.mapped_reads


def test_na12878_totals_match_samtools_flagstat() -> None:
    path = genome(NA12878_S1)
    total = total_of(iter_chunk_stats(locate(str(path)), 1000))
    flagstat = subprocess.run(
        ["samtools", "flagstat", str(path)], capture_output=True, text=True, check=False
    ).stdout or pysam.samtools.flagstat(str(path))
    assert flagstat.startswith(f"{total.total_reads} + 0 in total")
    assert f"\n{total.mapped_reads} + 0 mapped" in flagstat
    assert (total.total_reads, total.mapped_reads) == (52_035, 51_873)


def test_file_url_reads_the_same_as_the_path() -> None:
    path = genome(HTSNEXUS)
    assert list(iter_chunk_stats(locate(path.as_uri()), 5000)) == list(
        iter_chunk_stats(locate(str(path)), 5000)
    )


def test_single_thread_reading_gives_the_same_stats() -> None:
    path = genome(NA12878_S1)
    location = locate(str(path))
    assert list(iter_chunk_stats(location, 1000, threads=0)) == list(iter_chunk_stats(location, 1000))


def test_progress_reports_reads_and_compressed_bytes() -> None:
    path = genome(HTSNEXUS)
    calls: list[tuple[int, int]] = []
    list(iter_chunk_stats(locate(str(path)), 1000, on_progress=lambda r, b: calls.append((r, b))))
    assert calls[-1][0] == 39_918
    assert 0 < calls[-1][1] <= path.stat().st_size


def test_chunk_size_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(BamError, match="chunk size"):
        list(iter_chunk_stats(locate(str(genome(HTSNEXUS))), 0))

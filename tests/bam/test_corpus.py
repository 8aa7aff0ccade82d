"""Every file of the real-world corpus (htslib, samtools, pysam, nucleus test suites) through `pipelines stream-bam`.

Readable files: the chunk files equal the records `samtools view` lists, chunk by chunk, and the summary's
total equals `samtools flagstat`'s "in total". Broken files: exit status 2, one `error:` line, no output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from just_dna_pipelines.bam.source import locate
from just_dna_pipelines.cli import main
from just_dna_pipelines.settings import get_settings

from .conftest import CORPUS, corpus, flagstat_total, samtools_chunks

CHUNK_SIZE = 100
INDEX_SUFFIXES = (".bai", ".csi", ".crai")


@dataclass(frozen=True)
class Reads:
    """A readable file: its record count, what it is, and whether its index has read counts to check."""

    total: int
    described: str = "BAM"
    counted_index: bool = False


# Every data file of corpus/bam (the test fails when one is added without an entry here).
EXPECTED: dict[str, Reads | str] = {
    "derived__nucleus__NA12878_small.namesorted.bam": Reads(973),  # name-sorted, not by coordinate
    "derived__pysam__example_empty_with_header.bam": Reads(0),  # header only: zero chunks, as flagstat says
    "htslib__test__colons.bam": Reads(6, counted_index=True),  # contig names with colons
    "htslib__test__index_dos.sam": Reads(181, "SAM"),  # plain SAM, DOS line ends
    "htslib__test__mpileup__small.bam": Reads(8),
    "htslib__test__no_hdr_sq_1.bam": Reads(6, counted_index=True),  # header text without @SQ, targets binary
    "htslib__test__range.bam": Reads(112, counted_index=True),
    "htslib__test__range.cram": Reads(112, "CRAM 3.0"),  # its C. elegans reference is not on this machine
    "nucleus__nucleus__testdata__NA12878_small.bam": Reads(973),
    "nucleus__nucleus__testdata__test_cram.embed_ref_1_version_3.0.cram": Reads(3, "CRAM 3.0"),
    "nucleus__nucleus__testdata__unindexed.bam": Reads(106),
    "pysam__tests__pysam_data__0example_no_seq_in_header.bam": Reads(9),
    "pysam__tests__pysam_data__example_empty_with_header.sam": Reads(0, "SAM"),  # header only
    "samtools__test__dat__view.fetch-pairs.bam": Reads(40),
    "samtools__test__mpileup__ce#unmap2.bam": Reads(19),  # unplaced unmapped reads at the end
    "samtools__test__mpileup__mpileup.1.bam": Reads(569),
    # samtools view reads its 40 records with a warning; without the marker nothing tells a complete file
    # from one cut at a block boundary, so it is refused as the BAM reader always has
    "samtools__test__quickcheck__1.quickcheck.badeof.bam": "is truncated: the BGZF end-of-file marker is missing",
    # quickcheck flags "no targets", but an unaligned BAM (every read unmapped, RNAME *) is valid
    "samtools__test__quickcheck__10.quickcheck.notargets.bam": Reads(40),
}


@pytest.fixture(scope="module")
def corpus_dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Dagster home for the corpus runs: its storage is created once, not per file."""
    return tmp_path_factory.mktemp("corpus_dagster_home")


@pytest.fixture(autouse=True)
def _shared_dagster_home(corpus_dagster_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every corpus run records into the module's Dagster home (other folders stay per test)."""
    monkeypatch.setenv("DAGSTER_HOME", str(corpus_dagster_home))
    get_settings.cache_clear()


def test_the_table_covers_the_whole_corpus() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus folder {CORPUS} is absent (needs ../shared/fixtures next to the repo)")
    data_files = {p.name for p in CORPUS.iterdir() if not p.name.endswith(INDEX_SUFFIXES)}
    assert data_files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_stream_bam_on_the_corpus(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = corpus(name)
    out = tmp_path / "out"
    status = main(["stream-bam", str(path), "--chunk-size", str(CHUNK_SIZE), "--output-dir", str(out)])
    printed = capsys.readouterr()
    expected = EXPECTED[name]
    if isinstance(expected, str):
        assert status == 2
        assert printed.err.splitlines() == [f"error: {path} {expected}"]
        assert not out.exists()
        return
    assert status == 0, printed.err
    folder = out / locate(str(path)).output_name
    assert [p.name for p in out.iterdir()] == [folder.name]  # nothing but the published folder
    docs = [json.loads(p.read_text()) for p in sorted(folder.glob("chunk_*.json"))]
    oracle, unplaced = samtools_chunks(path, CHUNK_SIZE)
    assert [
        (
            d["chunk_info"]["chunk_id"],
            d["stats"]["total_reads"],
            d["stats"]["mapped_reads"],
            d["stats"]["avg_mapping_quality"],
            d["stats"]["position_range"]["min"],
            d["stats"]["position_range"]["max"],
        )
        for d in docs
    ] == [
        (c.chunk_id, c.total_reads, c.mapped_reads, c.avg_mapping_quality, c.position_min, c.position_max)
        for c in oracle
    ]
    assert all(d["chunk_info"]["total_chunks"] == len(oracle) for d in docs)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["stats"]["total_reads"] == expected.total == flagstat_total(path)
    assert summary["stats"]["unplaced_unmapped_reads"] == unplaced
    assert summary["file_info"]["format"] == expected.described
    assert summary["file_info"]["index_total_reads"] == (expected.total if expected.counted_index else None)
    assert f"{expected.total:,} reads (" in printed.out

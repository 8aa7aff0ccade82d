"""BAMs, CRAMs and SAMs over HTTP and HTTPS with range support (loopback servers): same stats, index cached by
file version."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import trustme

from just_dna_pipelines.bam.chunk_stats import iter_chunk_stats
from just_dna_pipelines.bam.formats import AlignmentFormat, DetectedFormat
from just_dna_pipelines.bam.index import find_index
from just_dna_pipelines.bam.source import file_version, locate
from just_dna_pipelines.defs.bam import StreamingBamChunkStreamer
from just_dna_pipelines.errors import BamError
from just_dna_pipelines.settings import get_settings

from .conftest import GENOMES, HTSNEXUS, DerivedAlignments, LoopbackServer, genome, serve_folder, server_tls


def _serve(server: LoopbackServer, name: str, with_index: bool = True) -> str:
    shutil.copy(genome(name), server.root / name)
    if with_index:
        shutil.copy(genome(name).with_name(name + ".bai"), server.root / (name + ".bai"))
    return server.url(name)


def test_remote_stats_equal_local_stats(remote_folder: LoopbackServer) -> None:
    url = _serve(remote_folder, HTSNEXUS)
    remote = list(iter_chunk_stats(locate(url), 1000))
    assert remote == list(iter_chunk_stats(locate(str(genome(HTSNEXUS))), 1000))
    # htslib checked the EOF marker with a range request before streaming
    assert any("bytes=" in line and "-> 206" in line for line in remote_folder.requests)


def test_remote_index_is_cached_by_version_outside_the_cwd(
    remote_folder: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    url = _serve(remote_folder, HTSNEXUS)
    stream = StreamingBamChunkStreamer().open_stream(url, 1000)
    info = stream.file_info(sum(len(b.chunks) for b in stream.batches()))
    assert (info.total_reads, info.index_reads) == (39_918, 39_918)
    cache = get_settings().cache_dir / "bam_index"
    cached = list(cache.rglob("*.bai"))
    assert len(cached) == 1
    assert list(workdir.iterdir()) == []  # nothing downloaded into the working directory

    # The served file changes (new mtime, so a new ETag): its index is fetched again, not reused.
    served = remote_folder.root / HTSNEXUS
    os.utime(served, ns=(served.stat().st_atime_ns, served.stat().st_mtime_ns + 10**9))
    location = locate(url)
    fresh = find_index(location, file_version(location), cache, DetectedFormat(AlignmentFormat.BAM, "BGZF"))
    assert fresh is not None and fresh not in cached
    assert len(list(cache.rglob("*.bai"))) == 2


def test_remote_bam_without_index_streams(remote_folder: LoopbackServer) -> None:
    url = _serve(remote_folder, HTSNEXUS, with_index=False)
    stream = StreamingBamChunkStreamer().open_stream(url, 10_000)
    info = stream.file_info(sum(len(b.chunks) for b in stream.batches()))
    assert (info.total_reads, info.total_chunks, info.index_reads) == (39_918, 4, None)


def test_untrusted_https_certificate_is_one_clear_error(tmp_path: Path) -> None:
    # A certificate from an authority nobody configured: refused, and the error says why.
    with serve_folder(tmp_path / "served", server_tls(trustme.CA())) as server:
        url = _serve(server, HTSNEXUS)
        with pytest.raises(
            BamError, match=r"^cannot reach https://127\.0\.0\.1:\d+/\S+: .*certificate verify failed"
        ):
            list(iter_chunk_stats(locate(url), 1000))


def _serve_file(server: LoopbackServer, path: Path, with_index: str = "") -> str:
    """Copy a file (and its index, given the index suffix) into the served folder; its URL."""
    shutil.copy(path, server.root / path.name)
    if with_index:
        shutil.copy(path.with_name(path.name + with_index), server.root / (path.name + with_index))
    return server.url(path.name)


@pytest.mark.parametrize("kind", ["cram", "sam", "sam_gz", "sam_bgzf"])
def test_remote_cram_and_sam_equal_local(
    kind: str, remote_folder: LoopbackServer, derived: DerivedAlignments
) -> None:
    path = derived.all()[kind]
    url = _serve_file(remote_folder, path)
    assert list(iter_chunk_stats(locate(url), 1000)) == list(iter_chunk_stats(locate(str(derived.bam)), 1000))
    if kind in ("cram", "sam_bgzf"):  # htslib checked the end-of-file marker with a range request
        assert any("bytes=" in line and "-> 206" in line for line in remote_folder.requests)


def test_remote_crai_is_cached_by_version_outside_the_cwd(
    remote_folder: LoopbackServer, derived: DerivedAlignments, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    url = _serve_file(remote_folder, derived.cram, with_index=".crai")
    streamer = StreamingBamChunkStreamer(require_index=True)
    stream = streamer.open_stream(url, 1000)
    info = stream.file_info(sum(len(b.chunks) for b in stream.batches()))
    assert (info.total_reads, info.index_reads, info.format) == (52_035, None, "CRAM 3.0")
    cache = get_settings().cache_dir / "bam_index"
    cached = list(cache.rglob("*.crai"))
    assert [p.name for p in cached] == ["na12878.cram.crai"]
    assert cached[0].read_bytes() == derived.cram.with_name(derived.cram.name + ".crai").read_bytes()
    assert list(workdir.iterdir()) == []

    served = remote_folder.root / derived.cram.name
    os.utime(served, ns=(served.stat().st_atime_ns, served.stat().st_mtime_ns + 10**9))
    streamer.open_stream(url, 1000)
    assert len(list(cache.rglob("*.crai"))) == 2  # a changed file gets its index fetched again


def test_remote_cram_without_its_required_index(
    remote_folder: LoopbackServer, derived: DerivedAlignments
) -> None:
    url = _serve_file(remote_folder, derived.cram)
    with pytest.raises(BamError) as caught:
        StreamingBamChunkStreamer(require_index=True).open_stream(url, 1000)
    assert str(caught.value) == f"{url} has no index (.crai), and this streamer requires one"


def test_a_remote_vcf_is_named(remote_folder: LoopbackServer) -> None:
    vcf = GENOMES / "PG_NA12878_chr21.vcf.gz"
    if not vcf.is_file():
        pytest.skip("fixture VCF absent")
    url = _serve_file(remote_folder, vcf)
    with pytest.raises(BamError, match=r"is a BGZF-compressed VCF file; only BAM, CRAM and SAM"):
        StreamingBamChunkStreamer().open_stream(url, 1000)
    # one ranged GET for the first bytes, never the whole file
    gets = [line for line in remote_folder.requests if line.startswith("GET /")]
    assert gets and all("bytes=0-" in line and "-> 206" in line for line in gets)


def test_an_empty_remote_file_is_named(remote_folder: LoopbackServer) -> None:
    (remote_folder.root / "empty.bam").write_bytes(b"")
    url = remote_folder.url("empty.bam")
    with pytest.raises(BamError, match=r"empty\.bam is empty \(0 bytes\)"):
        StreamingBamChunkStreamer().open_stream(url, 1000)

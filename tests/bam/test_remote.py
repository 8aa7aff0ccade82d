"""BAMs over HTTP and HTTPS with range support (loopback servers): same stats, index cached by file version."""

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

from .conftest import HTSNEXUS, LoopbackServer, genome, serve_folder, server_tls


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

"""A stream started before its run: the same batches, the same errors, and it stops when nobody takes it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from just_dna_pipelines.bam.stream import BamStream, StreamSettings
from just_dna_pipelines.bam.stream_started import StartedStreams, start_stream
from just_dna_pipelines.errors import BamError

from .conftest import HTSNEXUS, genome


def _settings(tmp_path: Path, chunk_size: int = 1000, batch_reads: int = 5000) -> StreamSettings:
    return StreamSettings(chunk_size=chunk_size, index_cache_dir=tmp_path / "index", batch_reads=batch_reads)


def test_a_started_stream_gives_the_batches_a_stream_gives(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    direct = BamStream.from_settings(str(genome(HTSNEXUS)), settings)
    expected = list(direct.batches())
    seen: list[int] = []
    started = start_stream(str(genome(HTSNEXUS)), settings, lambda reads, done, total: seen.append(reads))
    assert started is not None
    assert list(started.batches()) == expected and len(expected) == 8  # 39,918 reads in batches of 5 chunks
    assert started.stream.file_info(40) == direct.file_info(40)
    assert seen and seen[-1] == 39_918


def test_the_step_takes_only_the_stream_started_for_its_input_and_settings(tmp_path: Path) -> None:
    url, settings = str(genome(HTSNEXUS)), _settings(tmp_path)
    started = start_stream(url, settings, lambda *_: None)
    assert started is not None
    streams = StartedStreams(started)
    assert streams.take(url, _settings(tmp_path, chunk_size=999)) is None
    assert streams.take(url + ".other.bam", settings) is None
    assert streams.take(url, settings) is started
    assert streams.take(url, settings) is None  # taken once
    streams.stop_all()


def test_a_damaged_file_raises_in_the_consumer(tmp_path: Path) -> None:
    data = bytearray(genome(HTSNEXUS).read_bytes())
    data[len(data) // 2] ^= 0xFF
    path = tmp_path / "damaged.bam"
    path.write_bytes(bytes(data))
    started = start_stream(str(path), _settings(tmp_path), lambda *_: None)
    assert started is not None
    with pytest.raises(BamError, match="is corrupt"):
        list(started.batches())


def test_an_input_that_cannot_be_opened_is_left_to_the_step(tmp_path: Path) -> None:
    assert start_stream(str(tmp_path / "missing.bam"), _settings(tmp_path), lambda *_: None) is None


def test_a_stream_nobody_takes_stops_at_its_next_progress_report(tmp_path: Path) -> None:
    """The command's run ended (or failed) without taking the stream: it stops instead of reading on."""
    first_report, release = threading.Event(), threading.Event()
    reports: list[int] = []

    def progress(reads: int, done: int, total: int | None) -> None:
        reports.append(reads)
        first_report.set()
        release.wait(10)  # the stream waits here until the test has asked it to stop

    started = start_stream(str(genome(HTSNEXUS)), _settings(tmp_path), progress)
    assert started is not None and first_report.wait(10)
    stopper = threading.Thread(target=started.stop)
    stopper.start()
    while not started._stop.is_set():
        time.sleep(0.01)
    release.set()
    stopper.join(10)
    assert not stopper.is_alive() and not started._thread.is_alive()
    assert len(reports) == 1 and reports[0] < 39_918  # stopped at the next report, before the end
    with pytest.raises(Exception, match="stopped"):
        list(started.batches())

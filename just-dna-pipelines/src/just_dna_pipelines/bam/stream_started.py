"""A BAM stream started on a thread of its own before the run that consumes it exists.

`pipelines stream-bam` spends ~2 s importing Dagster, opening the instance and starting the run on one core
before the streaming step begins. Started here first, the stream inflates on the other core meanwhile; the
step then takes the batches already made, in order, and the rest as they come. Errors are raised in the
step, as if it had streamed the file itself.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from just_dna_pipelines.bam.stream import BamStream, ProgressHook, StreamSettings
from just_dna_pipelines.bam.work import ChunkBatch


class _Stopped(Exception):
    """Raised inside the streaming thread when nobody will take its batches."""

    def __init__(self) -> None:
        super().__init__("the stream was stopped before its end: nobody takes its batches")


@dataclass(frozen=True)
class _End:
    """The last item: the stream ended, or failed with `error`."""

    error: BaseException | None = None


class StartedStream:
    """Streams `stream` on a thread now; `batches()` hands the batches over in file order."""

    def __init__(self, stream: BamStream, settings: StreamSettings, progress: ProgressHook) -> None:
        self.stream = stream
        self.settings = settings
        self._progress = progress
        self._stop = threading.Event()
        self._items: queue.SimpleQueue[ChunkBatch | _End] = queue.SimpleQueue()
        stream.set_progress(self._on_progress)
        self._thread = threading.Thread(target=self._run, name="bam-stream", daemon=True)
        self._thread.start()

    def _on_progress(self, reads: int, done_bytes: int, total_bytes: int | None) -> None:
        if self._stop.is_set():
            raise _Stopped
        self._progress(reads, done_bytes, total_bytes)

    def _run(self) -> None:
        try:
            for batch in self.stream.batches():
                self._items.put(batch)
        except BaseException as exc:  # handed to the consumer, which raises it where it would have
            self._items.put(_End(exc))
        else:
            self._items.put(_End())

    def batches(self) -> Iterator[ChunkBatch]:
        """The stream's batches as they come; the stream's error, if it fails, is raised here."""
        while True:
            item = self._items.get()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item

    def stop(self) -> None:
        """Stop streaming (at its next progress report) and wait for the thread: nobody takes the batches."""
        self._stop.set()
        self._thread.join()


class StartedStreams:
    """The streams a command started before its run; the run's streaming step takes the one it would open."""

    def __init__(self, *started: StartedStream) -> None:
        self._started = list(started)
        self._untaken = list(started)

    def take(self, bam_url: str, settings: StreamSettings) -> StartedStream | None:
        """The stream started for this input with these settings (once), or None."""
        for started in self._untaken:
            if started.stream.bam_url == bam_url and started.settings == settings:
                self._untaken.remove(started)
                return started
        return None

    def stop_all(self) -> None:
        """Stop every stream still running: the run has ended (or failed before its step took them)."""
        for started in self._started:
            started.stop()
        self._started.clear()
        self._untaken.clear()


def start_stream(bam_url: str, settings: StreamSettings, progress: ProgressHook) -> StartedStream | None:
    """Open and start streaming `bam_url` now; None when it cannot be opened (the step will say why)."""
    try:
        stream = BamStream.from_settings(bam_url, settings)
    except Exception:
        return None
    return StartedStream(stream, settings, progress)

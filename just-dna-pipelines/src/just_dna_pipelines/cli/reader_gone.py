"""A command whose output's reader went away (`pipelines ... | head -1`) finishes its work quietly.

Writing to a pipe nobody reads raises BrokenPipeError (Python ignores SIGPIPE): the command printed a traceback
and exited 1 after its run, or 120 when the failure came at the interpreter's last flush; a progress line printed
from the progress thread raised there. The command's stdout is wrapped so that the first write the pipe refuses
points the process's standard output at /dev/null (what Dagster's helpers write to it too) and every later write
goes there: the run completes, its outputs are written, and the exit status is the command's own. Any other write
error (`> /dev/full`: no space left) is handled the same, and noted: the command then ends with one `error:` line
saying its output was lost, and exit status 1.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from typing import Any, TextIO


class StdoutUntilReaderGone:
    """A text stream passing writes to `stream` until its reader is gone, then dropping them."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self.reader_gone = False
        self.write_error: OSError | None = None  # a failure other than the reader leaving

    def write(self, text: str) -> int:
        if not self.reader_gone:
            try:
                self._stream.write(text)
            except OSError as error:
                self._drop(error)
        return len(text)

    def flush(self) -> None:
        if not self.reader_gone:
            try:
                self._stream.flush()
            except OSError as error:
                self._drop(error)

    def _drop(self, error: OSError) -> None:
        """Point the process's stdout at /dev/null (once): what is still buffered, and later writes, go there."""
        with self._lock:
            if self.reader_gone:
                return
            self.reader_gone = True
            if not isinstance(error, BrokenPipeError):
                self.write_error = error
            with contextlib.suppress(OSError, ValueError):
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, self._stream.fileno())
                os.close(null)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def quiet_when_reader_gone() -> Iterator[StdoutUntilReaderGone]:
    """sys.stdout wrapped for the block (see the module docstring), then put back."""
    original = sys.stdout
    wrapped = StdoutUntilReaderGone(original)
    sys.stdout = wrapped  # type: ignore[assignment]
    try:
        yield wrapped
    finally:
        wrapped.flush()
        sys.stdout = original

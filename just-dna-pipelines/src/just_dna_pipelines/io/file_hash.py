"""SHA-256 of files, and of an input file hashed ahead, on a thread, by a caller that knows it will be asked.

`pipelines annotate-modules` spends its first second importing Dagster on one core; the input's SHA-256 (the
run's identity of its genome: 0.4 s for a 600 MB VCF here) is computed meanwhile on the other (hashlib releases
the GIL), and the run's first step takes it. A hash started ahead is used only for the very file it was started
on: same path, device, inode, size and modification time when it is asked for as when it was started;
anything else is hashed again.
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import Future
from pathlib import Path

from just_dna_pipelines.io.file_version import FileVersion, file_version

HASH_CHUNK = 4 * 1024 * 1024
_lock = threading.Lock()
_started: dict[FileVersion, Future[str]] = {}


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def start_sha256(path: Path) -> None:
    """Start hashing `path` on a thread of its own; `sha256_of(path)` takes the result (an unreadable file is
    left to that call, which raises as it would have)."""
    try:
        key = file_version(path)
    except OSError:
        return
    future: Future[str] = Future()

    def run() -> None:
        try:
            future.set_result(_digest(path))
        except BaseException as exc:  # handed to the caller of sha256_of, raised there
            future.set_exception(exc)

    with _lock:
        _started[key] = future
    threading.Thread(target=run, name="input-sha256", daemon=True).start()


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, streamed (the hash started ahead when it was started on this very file)."""
    try:
        key = file_version(path)
    except OSError:
        key = None
    with _lock:
        future = _started.pop(key, None) if key is not None else None
    if future is not None:
        try:
            digest = future.result()
        except OSError:
            digest = None  # read again below, to raise from this call
        if digest is not None and file_version(path) == key:  # unchanged while it was hashed
            return digest
    return _digest(path)

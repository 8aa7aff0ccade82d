"""Reads of the run storage shared for a moment between the web app's pages.

Under load every run page (every 2 s) and every sample page asks the run storage for the same few things - a
run's record, a sample's runs, the queue - and on SQLite each ask opens a new connection and inspects the schema
(7-36 ms, holding the GIL the web app's event loop needs). Every change of a run (queued, started, ended,
canceled, tags) writes the run storage's database or its write-ahead log, so an answer read since the last
write is still the answer: it is reused while the files are unchanged, for at most MAX_AGE_S (a write can in
rare cases leave size and time unchanged: a reused write-ahead log within one clock tick). A storage without
such files (PostgreSQL) is read every time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

import dagster as dg

from just_dna_pipelines.runs.event_files import Signature, files_signature, run_storage_files

T = TypeVar("T")
MAX_AGE_S = 1.0
MAX_KEPT = 512  # distinct asks kept (runs, samples, queue views); forgotten all at once past that

_kept: dict[tuple[Hashable, ...], tuple[Signature, float, object]] = {}
_lock = threading.Lock()


def shared_read(
    instance: dg.DagsterInstance, key: tuple[Hashable, ...], read: Callable[[], T]
) -> tuple[T, float]:
    """`read()`'s answer, or the same ask's answer read since the run storage last changed (under MAX_AGE_S);
    with the answer's age in seconds (0 when read now). None answers are not kept."""
    signature = files_signature(run_storage_files(instance))
    if signature is None:
        return read(), 0.0
    full_key = (str(instance.root_directory), *key)
    with _lock:
        kept = _kept.get(full_key)
    if kept is not None and kept[0] == signature and 0 <= (age := time.monotonic() - kept[1]) < MAX_AGE_S:
        return kept[2], age  # type: ignore[return-value]
    asked = time.monotonic()
    answer = read()  # the signature was taken before: a write during the read leaves it stale, not the answer
    if answer is not None:
        with _lock:
            if len(_kept) >= MAX_KEPT:
                _kept.clear()
            _kept[full_key] = (signature, asked, answer)
    return answer, 0.0

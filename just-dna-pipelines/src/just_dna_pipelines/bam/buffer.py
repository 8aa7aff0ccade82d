"""One reusable buffer of decompressed BAM bytes: filled from the reader, consumed record by record.

Reusing the same memory for the whole file matters: a fresh 4 MB buffer per read costs a page fault per
page, which on a whole-genome BAM is more system time than the decompression itself.

With a reader that can read ahead (the parallel BGZF reader), two such buffers take turns: the next one
fills on the reader's threads while the caller scans this one, so the scan, the file read and the block
listing overlap the inflating instead of leaving a core idle between reads.
"""

from __future__ import annotations

import ctypes
from concurrent.futures import Future
from typing import Protocol

READ_BYTES = 4 << 20  # decompressed bytes asked for per read (~17k short-read records)
# Room kept before each read-ahead buffer's data for the bytes the caller has not consumed yet (the start of
# a record cut by the read); it grows when a record's start is longer.
AHEAD_RESERVE = 64 << 10


class DecompressingReader(Protocol):
    """What the buffer needs from a BGZF reader (htslib's, or the parallel one for local files)."""

    url: str
    min_read: int  # the least room read_into accepts

    def read_into(self, address: int, size: int) -> int:
        """Decompress up to `size` bytes to `address`; 0 at the end of the file."""
        ...

    def compressed_offset(self) -> int:
        """Compressed bytes read so far."""
        ...

    def close(self) -> None:
        """Release the file."""
        ...


class AheadReader(DecompressingReader, Protocol):
    """A reader that can fill the next buffer while the caller scans the current one."""

    def read_ahead(self, target: ctypes.Array, offset: int, size: int) -> Future[int]:
        """Start decompressing up to `size` bytes to `target` at `offset`; the future gives the count."""
        ...


def _pinned(data: bytearray) -> ctypes.Array:
    """A ctypes view of `data`: it pins the memory, so it can never move while C writes into it."""
    return (ctypes.c_char * len(data)).from_buffer(data)


class DecompressedBuffer:
    """`data[start:end]` holds decompressed bytes not consumed yet; `fill()` appends more after them.

    `ahead=True` (with a reader that has `read_ahead`, and `size` at least its `min_read`) reads one buffer
    ahead; `fill()` then swaps buffers, so `data` and `address` change: read them after every fill.
    """

    def __init__(self, reader: DecompressingReader, size: int = READ_BYTES, *, ahead: bool = False) -> None:
        self._reader = reader
        self.start = 0
        self.end = 0
        self._ahead: AheadReader | None = None
        if ahead and hasattr(reader, "read_ahead") and size >= reader.min_read:
            self._ahead = reader  # type: ignore[assignment]  # it has read_ahead: an AheadReader
            self._size, self._reserve = size, AHEAD_RESERVE
            self._spare = bytearray(self._reserve + size)
            self._spare_pinned = _pinned(self._spare)
            self._next: Future[int] | None = None
            size += self._reserve
        self._allocate(bytearray(size))

    def _allocate(self, data: bytearray) -> None:
        """Use `data` as the buffer."""
        self.data = data
        self._pinned = _pinned(data)
        self.address = ctypes.addressof(self._pinned)

    @property
    def pending(self) -> int:
        """Bytes in the buffer not consumed yet."""
        return self.end - self.start

    def consume(self, upto: int) -> None:
        """Mark everything before offset `upto` as used."""
        self.start = upto

    def fill(self) -> bool:
        """Keep the unconsumed bytes, move them to the front and read more after them; False at end of file.

        The buffer doubles when the unconsumed bytes leave less room than the reader needs (a record or
        header about as large as the buffer).
        """
        if self._ahead is not None:
            return self._fill_ahead()
        kept = self.pending
        if kept and self.start:
            ctypes.memmove(self.address, self.address + self.start, kept)
        self.start, self.end = 0, kept
        if len(self.data) - kept < self._reader.min_read:
            grown = bytearray(max(2 * len(self.data), kept + self._reader.min_read))
            grown[:kept] = self.data[:kept]
            self._allocate(grown)
        got = self._reader.read_into(self.address + kept, len(self.data) - kept)
        self.end += got
        return got > 0

    def _read_next(self) -> None:
        """Start filling the spare buffer (after its reserve) while the caller works on this one."""
        assert self._ahead is not None
        self._next = self._ahead.read_ahead(self._spare_pinned, self._reserve, self._size)

    def _fill_ahead(self) -> bool:
        """Wait for the spare buffer, put the unconsumed bytes just before its new data and swap buffers."""
        if self._next is None:
            self._read_next()
        assert self._next is not None
        got = self._next.result()
        self._next = None
        kept = self.pending
        if not got:  # the end: no read left in flight; the unconsumed bytes move to the front as before
            if kept and self.start:
                ctypes.memmove(self.address, self.address + self.start, kept)
            self.start, self.end = 0, kept
            return False
        if kept > self._reserve:  # a record's start longer than the reserve: grow both buffers
            reserve = max(2 * self._reserve, 2 * kept)
            grown = bytearray(reserve + self._size)
            grown[reserve - kept : reserve] = self.data[self.start : self.end]
            grown[reserve : reserve + got] = self._spare[self._reserve : self._reserve + got]
            self._reserve = reserve
            self._spare = bytearray(reserve + self._size)
            self._spare_pinned = _pinned(self._spare)
            self._allocate(grown)
        else:
            spare_address = ctypes.addressof(self._spare_pinned)
            if kept:
                ctypes.memmove(spare_address + self._reserve - kept, self.address + self.start, kept)
            old, old_pinned = self.data, self._pinned
            self.data, self._pinned, self.address = self._spare, self._spare_pinned, spare_address
            self._spare, self._spare_pinned = old, old_pinned
        self.start, self.end = self._reserve - kept, self._reserve + got
        self._read_next()
        return True

    def view(self) -> bytes:
        """A copy of the unconsumed bytes (for the header and the slow path, not the hot loop)."""
        return bytes(self.data[self.start : self.end])

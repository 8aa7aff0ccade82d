"""One reusable buffer of decompressed BAM bytes: filled from the reader, consumed record by record.

Reusing the same memory for the whole file matters: a fresh 4 MB buffer per read costs a page fault per
page, which on a whole-genome BAM is more system time than the decompression itself.
"""

from __future__ import annotations

import ctypes
from typing import Protocol

READ_BYTES = 4 << 20  # decompressed bytes asked for per read (~17k short-read records)


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


class DecompressedBuffer:
    """`data[start:end]` holds decompressed bytes not consumed yet; `fill()` appends more after them."""

    def __init__(self, reader: DecompressingReader, size: int = READ_BYTES) -> None:
        self._reader = reader
        self.start = 0
        self.end = 0
        self._allocate(bytearray(size))

    def _allocate(self, data: bytearray) -> None:
        """Use `data` as the buffer; the ctypes view pins it, so it can never move while C writes into it."""
        self.data = data
        self._pinned = (ctypes.c_char * len(data)).from_buffer(data)
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

    def view(self) -> bytes:
        """A copy of the unconsumed bytes (for the header and the slow path, not the hot loop)."""
        return bytes(self.data[self.start : self.end])

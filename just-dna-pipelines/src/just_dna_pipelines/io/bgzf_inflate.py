"""Inflate a local BGZF file (bgzipped VCF or BCF) block by block with libdeflate, about 4x Python's zlib.

BGZF blocks are independent deflate streams of at most 64 KiB whose size and CRC are in their footer, so
each inflates straight into an output buffer with one call. Used only when libdeflate is on the machine
(Debian's libdeflate0, which samtools depends on); otherwise, and for a gzip member that is not BGZF, the
caller inflates with zlib from where this stopped.
"""

from __future__ import annotations

import ctypes
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from just_dna_pipelines.errors import VcfError

READ_SIZE = 4 << 20  # compressed bytes held at a time
OUT_SIZE = 1 << 20  # decompressed bytes handed out at a time (at least one whole block)
MAX_BLOCK = 65536  # the most a BGZF block holds, compressed or not
EOF_BLOCK = bytes.fromhex(
    "1f8b08040000000000ff0600424302001b0003000000000000000000"
)  # bgzip's empty last block
HEADER = struct.Struct("<4BI2BH")  # magic 1f 8b, method, flags, mtime, extra flags, OS, extra length


@dataclass
class NotBgzf:
    """Where the BGZF blocks ended and a member of another kind begins (the caller inflates from there)."""

    offset: int


def _libdeflate() -> ctypes.CDLL | None:
    from just_dna_pipelines.bam.native import libdeflate  # the one place that finds the system library

    lib = libdeflate()
    if lib is not None:
        lib.libdeflate_deflate_decompress.restype = ctypes.c_int
        lib.libdeflate_deflate_decompress.argtypes = [
            ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
        ]  # fmt: skip
        lib.libdeflate_crc32.restype = ctypes.c_uint32
        lib.libdeflate_crc32.argtypes = [ctypes.c_uint32, ctypes.c_void_p, ctypes.c_size_t]
    return lib


def libdeflate_available() -> bool:
    """Whether the fast BGZF path can run here."""
    return _libdeflate() is not None


def block_size(data: bytes | bytearray, at: int) -> int | None:
    """The whole size of the BGZF block starting at `at`, or None when the member there is not BGZF."""
    magic1, magic2, method, flags, _, _, _, extra = HEADER.unpack_from(data, at)
    if (magic1, magic2, method) != (0x1F, 0x8B, 8) or not flags & 4:
        return None
    field = at + 12
    while field + 4 <= at + 12 + extra:
        size = struct.unpack_from("<H", data, field + 2)[0]
        if data[field : field + 2] == b"BC" and size == 2:
            return struct.unpack_from("<H", data, field + 4)[0] + 1
        field += 4 + size
    return None


def _fill(handle, data: bytearray, start: int, end: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Move the unread bytes to the front and read until the buffer is full or the file ends."""
    data[: end - start] = data[start:end]
    end -= start
    view = memoryview(data)
    while end < len(data):
        read = handle.readinto(view[end:])
        if not read:
            break
        end += read
    view.release()
    return 0, end


class BlockInflater:
    """Inflates one BGZF block's deflate data at a time: libdeflate where the machine has it (about twice
    Python's zlib on a whole-genome VCF's blocks), else zlib. `close` frees libdeflate's decompressor."""

    def __init__(self) -> None:
        self._lib = _libdeflate()
        self._decompressor = self._lib.libdeflate_alloc_decompressor() if self._lib is not None else None
        self._out = ctypes.create_string_buffer(MAX_BLOCK)

    def inflate(self, payload: bytes, size: int) -> bytes | None:
        """The `size` bytes `payload` inflates to; None unless it is one whole deflate stream of exactly that
        many bytes (at most a block's)."""
        if size > MAX_BLOCK:
            return None
        if self._lib is None:
            inflater = zlib.decompressobj(wbits=-15)
            try:  # never more than a block's worth, whatever the data inflates to
                text = inflater.decompress(payload, MAX_BLOCK + 1)
            except zlib.error:
                return None
            return text if len(text) == size and inflater.eof else None
        # libdeflate succeeds only when the stream ends exactly at `size` bytes (no actual-size pointer given)
        if self._lib.libdeflate_deflate_decompress(
            self._decompressor, payload, len(payload), self._out, size, None
        ):
            return None
        return ctypes.string_at(self._out, size)  # (`.raw` would copy the whole buffer first)

    def close(self) -> None:
        if self._lib is not None and self._decompressor is not None:
            self._lib.libdeflate_free_decompressor(self._decompressor)
            self._decompressor = None


def bgzf_pieces(path: Path) -> Iterator[bytes | NotBgzf]:
    """The decompressed bytes of a BGZF file in pieces of up to OUT_SIZE, then a NotBgzf marker (and nothing
    more) if a member is not BGZF or libdeflate is missing. Raise VcfError for a damaged or cut block."""
    lib = _libdeflate()
    if lib is None:
        yield NotBgzf(0)
        return
    truncated = VcfError(f"{path.name} is truncated (its gzip data ends early)")
    damaged = VcfError(f"{path.name} is a damaged gzip file (invalid compressed data)")
    decompressor = lib.libdeflate_alloc_decompressor()
    data, out = bytearray(READ_SIZE), bytearray(OUT_SIZE)
    data_buffer = (ctypes.c_char * READ_SIZE).from_buffer(data)  # fixed addresses for libdeflate
    out_buffer = (ctypes.c_char * OUT_SIZE).from_buffer(out)
    data_address, out_address = ctypes.addressof(data_buffer), ctypes.addressof(out_buffer)
    start = end = filled = offset = 0  # unread compressed bytes: data[start:end], at file offset `offset`
    try:
        with path.open("rb", buffering=0) as handle:
            while True:
                if end - start < MAX_BLOCK:  # a whole block (at most 64 KiB) is then in the buffer
                    start, end = _fill(handle, data, start, end)
                    if end == 0:
                        break
                if end - start < 18:
                    raise truncated
                size = block_size(data, start)
                if size is None:
                    break
                if end - start < size:
                    raise truncated
                crc, isize = struct.unpack_from("<II", data, start + size - 8)
                if isize > MAX_BLOCK:
                    raise damaged
                if filled + isize > OUT_SIZE:
                    yield bytes(out[:filled])
                    filled = 0
                extra = struct.unpack_from("<H", data, start + 10)[0]
                payload = data_address + start + 12 + extra
                target = out_address + filled
                if (
                    lib.libdeflate_deflate_decompress(
                        decompressor, payload, size - 12 - extra - 8, target, isize, None
                    )
                    or lib.libdeflate_crc32(0, target, isize) != crc
                ):
                    raise damaged
                filled += isize
                start += size
                offset += size
        if filled:
            yield bytes(out[:filled])
        if end - start:
            yield NotBgzf(offset)
    finally:
        lib.libdeflate_free_decompressor(decompressor)
        del data_buffer, out_buffer  # release the exported buffers before the bytearrays go

"""A BGZF reader for local files that inflates blocks on several threads at once (BAM and bgzipped VCF).

BGZF blocks are independent deflate streams whose uncompressed sizes are in their footers, so a run of
blocks can be split between threads that each inflate straight into their part of the output. The
C helpers list the blocks and inflate them with ISA-L where it was built in, else libdeflate (checking each
block's CRC32), with the GIL released. htslib's own thread pool scales poorly on small machines (a 2-core VM
reads 1.6x slower with it than with this); it still reads remote files.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from just_dna_pipelines.bam.native import inflater_in_use, isal_library, libdeflate, native_library
from just_dna_pipelines.errors import BamError
from just_dna_pipelines.io.bgzf_inflate import EOF_BLOCK, MAX_BLOCK

COMPRESSED_BYTES = 4 << 20  # compressed bytes read from the file at a time
_MAX_BLOCKS = COMPRESSED_BYTES // 28 + 1  # 28 bytes: the smallest possible (empty) block
_i64 = ctypes.c_int64
# (worker, compressed address, shared next-block counter, block count, output address) -> 0 or 1 + bad block
_Inflate = Callable[[int, int, Any, int, int], int]


def parallel_reader_available() -> bool:
    """True when the C helpers are built and ISA-L or libdeflate is on the machine."""
    return native_library() is not None and inflater_in_use() != "none"


@dataclass(frozen=True)
class BgzfDamage:
    """What stops a BGZF read, for the caller to word: `kind` and the compressed offset it was found at.

    Kinds: "not_bgzf" (the file does not start with a BGZF block), "no_eof" (the end-of-file marker is
    missing), "bad_block" (what follows is not a BGZF block: damage, or another kind of gzip member),
    "cut" (the file ends inside a block), "checksum" (a block fails its CRC32).
    """

    kind: str
    offset: int = 0


def bam_damage(url: str, damage: BgzfDamage) -> Exception:
    """A BAM's one-line error for a BGZF problem."""
    return BamError(
        {
            "not_bgzf": f"{url} is not a BAM file (it is not BGZF-compressed)",
            "no_eof": f"{url} is truncated: the BGZF end-of-file marker is missing",
            "bad_block": f"{url} is corrupt: bad BGZF block at compressed offset {damage.offset:,}",
            "cut": f"{url} is truncated: it ends inside a BGZF block",
            "checksum": f"{url} is corrupt: BGZF block at compressed offset {damage.offset:,} fails its checksum",
        }[damage.kind]
    )


class ParallelBgzfReader:
    """Sequential decompressed reads of a local BGZF file, whole blocks at a time, on `threads` threads.

    `error` words a BgzfDamage as the exception to raise (a BAM's BamError by default); `require_eof`
    refuses a file without the end-of-file marker up front (BAM; a bgzipped VCF need not have one).
    """

    min_read = MAX_BLOCK  # read_into needs room for at least one whole block

    def __init__(
        self,
        path: Path,
        threads: int = 2,
        *,
        require_eof: bool = True,
        error: Callable[[str, BgzfDamage], Exception] = bam_damage,
        inflater: str = "auto",
    ) -> None:
        lib = native_library()
        inflater = inflater_in_use() if inflater == "auto" else inflater
        if lib is None or inflater not in ("isal", "libdeflate"):
            raise RuntimeError("the parallel BGZF reader needs the C helpers and ISA-L or libdeflate")
        self.url = str(path)
        self._error = error
        self._require_eof = require_eof
        self._lib = lib
        self._workers = max(1, threads)
        self._free: Callable[[], object] = lambda: None
        self._inflate_with = self._isal_inflater() if inflater == "isal" else self._libdeflate_inflater()
        self._pool = ThreadPoolExecutor(self._workers - 1) if self._workers > 1 else None
        self._ahead: ThreadPoolExecutor | None = None  # the thread of read_ahead, made on first use
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115 - closed in close()
        self._compressed = bytearray(COMPRESSED_BYTES)
        self._pinned = (ctypes.c_char * COMPRESSED_BYTES).from_buffer(self._compressed)  # never moves
        self._compressed_address = ctypes.addressof(self._pinned)
        self._start = self._end = 0  # unread compressed bytes are _compressed[_start:_end]
        self._offset = 0  # compressed bytes consumed from the file
        self._offset_claimed = 0  # the same, up to the last read the caller has claimed (read_ahead)
        self._file_done = False
        self._starts = (_i64 * (_MAX_BLOCKS + 1))()
        self._out_starts = (_i64 * _MAX_BLOCKS)()
        try:
            self._check_format(path)
        except Exception:
            self.close()
            raise

    def _isal_inflater(self) -> _Inflate:
        """Per-worker ISA-L states and the call inflating blocks with them."""
        isal = isal_library()
        if isal is None:
            raise RuntimeError("ISA-L's inflate is not built into this installation")
        states = [isal.isal_state_new() for _ in range(self._workers)]
        if not all(states):
            raise MemoryError("no memory for the BGZF inflate states")
        self._free = lambda: [isal.isal_state_free(state) for state in states]

        def inflate(worker: int, source: int, next_block: Any, count: int, address: int) -> int:
            return int(
                isal.isal_inflate_blocks(
                    states[worker], source, self._starts, self._out_starts, next_block, count, address
                )
            )

        return inflate

    def _libdeflate_inflater(self) -> _Inflate:
        """Per-worker libdeflate decompressors and the call inflating blocks with them."""
        deflate = libdeflate()
        if deflate is None:
            raise RuntimeError("libdeflate is not on this machine")
        decompress = ctypes.cast(deflate.libdeflate_deflate_decompress, ctypes.c_void_p)
        crc32 = ctypes.cast(deflate.libdeflate_crc32, ctypes.c_void_p)
        decompressors = [deflate.libdeflate_alloc_decompressor() for _ in range(self._workers)]
        self._free = lambda: [deflate.libdeflate_free_decompressor(d) for d in decompressors]

        def inflate(worker: int, source: int, next_block: Any, count: int, address: int) -> int:
            return int(
                self._lib.inflate_blocks(
                    decompress,
                    crc32,
                    decompressors[worker],
                    source,
                    self._starts,
                    self._out_starts,
                    next_block,
                    count,
                    address,
                )
            )

        return inflate

    def _damage(self, kind: str, offset: int = 0) -> Exception:
        return self._error(self.url, BgzfDamage(kind, offset))

    def _check_format(self, path: Path) -> None:
        """BGZF magic at the start and (if required) the BGZF end-of-file block at the end."""
        size = path.stat().st_size
        head = os.pread(self._file.fileno(), 18, 0)
        if len(head) < 18 or head[:4] != b"\x1f\x8b\x08\x04" or head[12:14] != b"BC":
            raise self._damage("not_bgzf")
        if self._require_eof and (
            size < len(EOF_BLOCK) or os.pread(self._file.fileno(), 28, size - 28) != EOF_BLOCK
        ):
            raise self._damage("no_eof")

    def compressed_offset(self) -> int:
        """Compressed bytes inflated so far (for progress), not counting a read ahead still unclaimed."""
        return self._offset if self._ahead is None else self._offset_claimed

    def _refill(self) -> None:
        """Move the unread compressed bytes to the front and read more from the file after them."""
        kept = self._end - self._start
        self._compressed[:kept] = self._compressed[self._start : self._end]
        self._start, self._end = 0, kept
        got = self._file.readinto(memoryview(self._compressed)[kept:])
        if not got:
            self._file_done = True
        self._end += got or 0

    def read_into(self, address: int, size: int) -> int:
        """Inflate whole blocks into memory at `address` (at most `size` bytes); 0 at the end of the file."""
        if size < MAX_BLOCK:
            raise ValueError(f"read_into needs room for a whole block ({MAX_BLOCK} bytes), not {size}")
        while True:
            used, total = _i64(), _i64()
            count = self._lib.list_blocks(
                self._compressed_address + self._start,
                self._end - self._start,
                size,
                _MAX_BLOCKS,
                self._starts,
                self._out_starts,
                ctypes.byref(used),
                ctypes.byref(total),
            )
            if count < 0:
                raise self._damage("bad_block", self._offset + used.value)
            if count > 0:
                break
            if self._file_done:
                if self._end > self._start:
                    raise self._damage("cut", self._offset)
                return 0
            self._refill()
        self._inflate(count, address)
        self._start += used.value
        self._offset += used.value
        return int(total.value)

    def read_ahead(self, target: ctypes.Array, offset: int, size: int) -> Future[int]:
        """Start `read_into(target + offset, size)` on a thread of its own and return at once.

        The caller scans what it has while the next blocks inflate (the caller's scan, the file read and
        the block listing no longer leave a core idle). One read at a time: wait for a read's result before
        asking for the next. `target` (a ctypes view pinning its memory) is held until the read is done.
        """
        if self._ahead is None:
            self._ahead = ThreadPoolExecutor(1, thread_name_prefix="bgzf-ahead")
        # The caller has claimed every read before this one: progress counts them, not this one.
        self._offset_claimed = self._offset
        return self._ahead.submit(lambda: self.read_into(ctypes.addressof(target) + offset, size))

    def _inflate(self, count: int, address: int) -> None:
        """Inflate the listed blocks on all workers, each taking the next block not taken yet."""
        starts = self._starts
        source = self._compressed_address + self._start
        next_block = ctypes.pointer(_i64(0))

        def run(worker: int) -> int:
            return self._inflate_with(worker, source, next_block, count, address)

        others = [self._pool.submit(run, w) for w in range(1, self._workers)] if self._pool else []
        results = [run(0)] + [future.result() for future in others]
        bad = [result - 1 for result in results if result]
        if bad:
            raise self._damage("checksum", self._offset + starts[min(bad)])

    def close(self) -> None:
        """Close the file and free the decompressors and threads (after a read ahead still running)."""
        if self._ahead is not None:
            self._ahead.shutdown()
            self._ahead = None
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        self._free()
        self._free = lambda: None
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> ParallelBgzfReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

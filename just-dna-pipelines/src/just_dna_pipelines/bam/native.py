"""The package's compiled helpers (csrc/, built at install: BAM scanners, BGZF inflate, VCF line scan) and
libdeflate, bound with ctypes.

Both are optional: without a C compiler at install time, or without libdeflate on the machine, BAM
streaming falls back to htslib's own reader and the Python record scanner (correct, several times slower),
and a bgzipped VCF is read at its module sites through a tabix index instead of one scan.
"""

from __future__ import annotations

import ctypes
import importlib.util
from functools import lru_cache
from typing import Any

_MODULE = "just_dna_pipelines.bam._native"
_ISAL_MODULE = "just_dna_pipelines.bam._isal"
_i64 = ctypes.c_int64
_i64_ptr = ctypes.POINTER(ctypes.c_int64)
_LIBDEFLATE_NAMES = ("libdeflate.so.0", "libdeflate.so", "libdeflate.0.dylib")
# The block list both inflaters take after their own first arguments (csrc/bgzf_block.h).
_BLOCK_LIST_ARGS: list[Any] = [
    ctypes.c_void_p,  # compressed bytes
    _i64_ptr,  # block starts
    _i64_ptr,  # uncompressed starts
    _i64_ptr,  # the next block to take, shared by the threads
    _i64,  # end block
    ctypes.c_void_p,  # output
]


@lru_cache(maxsize=1)
def native_library() -> ctypes.CDLL | None:
    """The compiled helpers, or None when the package was installed without a C compiler."""
    spec = importlib.util.find_spec(_MODULE)
    if spec is None or not spec.origin:
        return None
    lib = ctypes.CDLL(spec.origin)
    lib.chunk_scan.restype = ctypes.c_int
    lib.chunk_scan.argtypes = [ctypes.c_void_p, _i64, _i64_ptr, _i64_ptr, _i64, _i64_ptr, _i64, _i64_ptr]
    lib.record_scan.restype = ctypes.c_int
    lib.record_scan.argtypes = [
        ctypes.c_void_p,  # htslib's sam_read1
        ctypes.c_void_p,  # htsFile *
        ctypes.c_void_p,  # sam_hdr_t *
        ctypes.c_void_p,  # bam1_t *
        _i64_ptr,  # reads so far
        _i64,  # chunk size
        _i64,  # most reads to read in this call
        _i64_ptr,  # output rows
        _i64,  # most rows
        _i64_ptr,  # rows filled
    ]
    lib.list_blocks.restype = _i64
    lib.list_blocks.argtypes = [ctypes.c_void_p, _i64, _i64, _i64, _i64_ptr, _i64_ptr, _i64_ptr, _i64_ptr]
    lib.inflate_blocks.restype = _i64
    lib.inflate_blocks.argtypes = [
        ctypes.c_void_p,  # libdeflate_deflate_decompress
        ctypes.c_void_p,  # libdeflate_crc32
        ctypes.c_void_p,  # a libdeflate decompressor
        *_BLOCK_LIST_ARGS,
    ]
    lib.vcf_scan.restype = ctypes.c_int
    lib.vcf_scan.argtypes = [
        ctypes.c_void_p,
        _i64,
        _i64_ptr,
        ctypes.c_void_p,
    ]  # buffer, length, offset, state
    return lib


@lru_cache(maxsize=1)
def libdeflate() -> ctypes.CDLL | None:
    """The system libdeflate (Debian's libdeflate0, which samtools and htslib depend on), if present."""
    for name in _LIBDEFLATE_NAMES:
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.libdeflate_alloc_decompressor.restype = ctypes.c_void_p
        lib.libdeflate_free_decompressor.argtypes = [ctypes.c_void_p]
        return lib
    return None


@lru_cache(maxsize=1)
def isal_library() -> ctypes.CDLL | None:
    """csrc/isal_inflate.c, linked with ISA-L: built at install where ISA-L's headers were (libisal-dev)."""
    spec = importlib.util.find_spec(_ISAL_MODULE)
    if spec is None or not spec.origin:
        return None
    try:
        lib = ctypes.CDLL(spec.origin)
    except OSError:  # built, but ISA-L's shared library has gone since
        return None
    lib.isal_state_new.restype = ctypes.c_void_p
    lib.isal_state_free.argtypes = [ctypes.c_void_p]
    lib.isal_inflate_blocks.restype = _i64
    lib.isal_inflate_blocks.argtypes = [
        ctypes.c_void_p,  # this thread's inflate state
        *_BLOCK_LIST_ARGS,
    ]
    return lib


def inflater_in_use() -> str:
    """Which library inflates BGZF blocks in the parallel reader: "isal", "libdeflate" or "none"."""
    if isal_library() is not None:
        return "isal"
    return "libdeflate" if libdeflate() is not None else "none"


def fast_path_description() -> str:
    """What streams BAMs on this installation, for logs and benchmark notes."""
    if native_library() is None:
        return "htslib reader + Python scanner (the C helpers are not built)"
    inflater = inflater_in_use()
    if inflater == "none":
        return "htslib reader + C scanner (neither ISA-L nor libdeflate found)"
    return f"parallel {'ISA-L' if inflater == 'isal' else 'libdeflate'} reader for local files + C scanner"

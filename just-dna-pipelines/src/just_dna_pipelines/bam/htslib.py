"""A thin ctypes binding to htslib: its BGZF reader (BAM), and its record reader (CRAM, SAM).

BGZF decompression runs on htslib's own C threads.

pysam's bundled htslib (built with libcurl, so http(s) works with range requests) is always there;
the system `libhts.so.3` (Debian's htslib, installed with samtools) is preferred when present because
it inflates with libdeflate, about 1.6x faster than zlib. Calls through ctypes release the GIL, so the
Python record walker and htslib's decompression threads run at the same time.
"""

from __future__ import annotations

import ctypes
from functools import lru_cache

from just_dna_pipelines.errors import BamError

_BGZF_COMPRESSION = 2
_ERRCODE_MASK = 0xFFFF  # BGZF.errcode: the low 16 bits of its first bit-field word
_EOF_ABSENT = 0
_LOG_OFF = 0


class _HFile(ctypes.Structure):
    """The public head of htslib's `hFILE` (hfile.h): enough to read the compressed offset."""

    _fields_ = [
        ("buffer", ctypes.c_void_p),
        ("begin", ctypes.c_void_p),
        ("end", ctypes.c_void_p),
        ("limit", ctypes.c_void_p),
        ("backend", ctypes.c_void_p),
        ("offset", ctypes.c_int64),
    ]


class _Bgzf(ctypes.Structure):
    """The public head of htslib's `BGZF` struct (bgzf.h), up to its file handle."""

    _fields_ = [
        ("bits", ctypes.c_uint32),
        ("cache_size", ctypes.c_int),
        ("block_length", ctypes.c_int),
        ("block_clength", ctypes.c_int),
        ("block_offset", ctypes.c_int),
        ("block_address", ctypes.c_int64),
        ("uncompressed_address", ctypes.c_int64),
        ("uncompressed_block", ctypes.c_void_p),
        ("compressed_block", ctypes.c_void_p),
        ("cache", ctypes.c_void_p),
        ("fp", ctypes.POINTER(_HFile)),
    ]


class HtsFile(ctypes.Structure):
    """The public head of htslib's `htsFile` (hts.h), up to its file handle union."""

    _fields_ = [
        ("bits", ctypes.c_uint32),  # is_bin:1, is_write:1, is_be:1, is_cram:1, is_bgzf:1
        ("lineno", ctypes.c_int64),
        ("line_l", ctypes.c_size_t),
        ("line_m", ctypes.c_size_t),
        ("line_s", ctypes.c_void_p),
        ("fn", ctypes.c_void_p),
        ("fn_aux", ctypes.c_void_p),
        ("fp", ctypes.c_void_p),  # BGZF *, cram_fd * or hFILE *, as the bits say
    ]


class HtsFormat(ctypes.Structure):
    """The public head of htslib's `htsFormat` (hts.h)."""

    _fields_ = [
        ("category", ctypes.c_int),
        ("format", ctypes.c_int),
        ("major", ctypes.c_short),
        ("minor", ctypes.c_short),
        ("compression", ctypes.c_int),
    ]


# htsExactFormat values (hts.h) of the formats read through htsFile
HTS_SAM, HTS_BAM, HTS_CRAM = 3, 4, 6
_IS_CRAM, _IS_BGZF = 1 << 3, 1 << 4


def _bind(lib: ctypes.CDLL) -> ctypes.CDLL:
    """Declare the signatures of the few functions used."""
    lib.bgzf_open.restype = ctypes.POINTER(_Bgzf)
    lib.bgzf_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    lib.bgzf_mt.argtypes = [ctypes.POINTER(_Bgzf), ctypes.c_int, ctypes.c_int]
    lib.bgzf_read.argtypes = [ctypes.POINTER(_Bgzf), ctypes.c_void_p, ctypes.c_size_t]
    lib.bgzf_read.restype = ctypes.c_ssize_t
    lib.bgzf_close.argtypes = [ctypes.POINTER(_Bgzf)]
    lib.bgzf_check_EOF.argtypes = [ctypes.POINTER(_Bgzf)]
    lib.bgzf_compression.argtypes = [ctypes.POINTER(_Bgzf)]
    _bind_records(lib)
    lib.hts_set_log_level.argtypes = [ctypes.c_int]
    lib.hts_version.restype = ctypes.c_char_p
    lib.hts_set_log_level(_LOG_OFF)  # failures become BamErrors here, not lines on stderr
    return lib


def _bind_records(lib: ctypes.CDLL) -> None:
    """Declare the record-level functions: open, options, header, sam_read1, EOF check."""
    void_p, file_p = ctypes.c_void_p, ctypes.POINTER(HtsFile)
    lib.hts_open.restype = file_p
    lib.hts_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    lib.hts_close.argtypes = [file_p]
    lib.hts_get_format.restype = ctypes.POINTER(HtsFormat)
    lib.hts_get_format.argtypes = [file_p]
    lib.hts_opt_add.argtypes = [ctypes.POINTER(void_p), ctypes.c_char_p]
    lib.hts_opt_apply.argtypes = [file_p, void_p]
    lib.hts_opt_free.argtypes = [void_p]
    lib.hts_check_EOF.argtypes = [file_p]
    lib.sam_hdr_read.restype = void_p
    lib.sam_hdr_read.argtypes = [file_p]
    lib.sam_hdr_nref.argtypes = [void_p]
    lib.sam_hdr_destroy.argtypes = [void_p]
    lib.bam_init1.restype = void_p
    lib.bam_destroy1.argtypes = [void_p]
    lib.sam_read1.argtypes = [file_p, void_p, void_p]
    lib.cram_fd_get_fp.restype = ctypes.POINTER(_HFile)
    lib.cram_fd_get_fp.argtypes = [void_p]


def file_offset(fp: ctypes._Pointer) -> int:
    """About how many bytes of the file htslib has read so far (htell on its hFILE), for progress."""
    head = fp.contents
    if not head.fp:
        return 0
    if head.bits & _IS_CRAM:
        handle = htslib().cram_fd_get_fp(head.fp)
    elif head.bits & _IS_BGZF:
        handle = ctypes.cast(head.fp, ctypes.POINTER(_Bgzf)).contents.fp
    else:
        handle = ctypes.cast(head.fp, ctypes.POINTER(_HFile))
    if not handle:
        return 0
    hfile = handle.contents
    return int(hfile.offset + ((hfile.begin or 0) - (hfile.buffer or 0)))


@lru_cache(maxsize=1)
def htslib() -> ctypes.CDLL:
    """The htslib to read with: the system one (libdeflate) if loadable, else pysam's bundled copy."""
    try:
        return _bind(ctypes.CDLL("libhts.so.3"))
    except (OSError, AttributeError):
        import pysam.libchtslib

        return _bind(ctypes.CDLL(pysam.libchtslib.__file__))


def htslib_description() -> str:
    """Which htslib reads BAMs here, for benchmark notes."""
    lib = htslib()
    version = lib.hts_version().decode()
    return f"htslib {version} ({getattr(lib, '_name', '?')})"


class BgzfReader:
    """Sequential decompressed reads from a BGZF file or URL, decompressed on htslib threads."""

    min_read = 1  # htslib fills any amount of room

    def __init__(self, url: str, threads: int = 2) -> None:
        self.url = url
        self._lib = htslib()
        self._fp = self._lib.bgzf_open(url.encode(), b"r")
        if not self._fp:
            raise BamError(f"cannot open {url}")
        try:
            if self._lib.bgzf_compression(self._fp) != _BGZF_COMPRESSION:
                raise BamError(f"{url} is not a BAM file (it is not BGZF-compressed)")
            if self._lib.bgzf_check_EOF(self._fp) == _EOF_ABSENT:
                raise BamError(f"{url} is truncated: the BGZF end-of-file marker is missing")
            if threads > 0 and self._lib.bgzf_mt(self._fp, threads, 256) != 0:
                raise BamError(f"cannot start htslib threads to read {url}")
        except BamError:
            self.close()
            raise

    def compressed_offset(self) -> int:
        """About how many compressed bytes htslib has read so far (for progress)."""
        if not self._fp:
            return 0
        handle = self._fp.contents.fp
        return int(handle.contents.offset) if handle else 0

    def read_into(self, address: int, size: int) -> int:
        """Decompress up to `size` bytes to memory at `address`; 0 at the end of the file."""
        got = int(self._lib.bgzf_read(self._fp, address, size))
        # With threads, htslib can report a failed block as a 0-byte read and keep the error in errcode.
        if got < 0 or (got == 0 and self._fp.contents.bits & _ERRCODE_MASK):
            raise BamError(f"{self.url} is truncated or corrupt: a BGZF block could not be read")
        return got

    def close(self) -> None:
        """Release the htslib handle and its threads."""
        if self._fp:
            self._lib.bgzf_close(self._fp)
            self._fp = None  # type: ignore[assignment]

    def __enter__(self) -> BgzfReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""A CRAM or SAM opened with htslib for one sequential pass: checked, header read, records decoded one by one.

A CRAM is decoded for the fields the statistics use only (FLAG, RNAME, POS, MAPQ), as `samtools flagstat`
does: htslib then never loads the reference sequence, so a CRAM streams without one, with nothing fetched
from REF_PATH / REF_CACHE or the network, and a missing or wrong reference cannot change the counts.

Both formats are decoded on the calling thread. With a thread pool, htslib (1.16 and 1.24 alike) reports a
damaged CRAM container header as a clean end of file, silently dropping every read after it; and its
threaded SAM parser drops the good records of a block holding a bad line and does not count lines.
"""

from __future__ import annotations

import ctypes

from just_dna_pipelines.bam.formats import AlignmentFormat, DetectedFormat
from just_dna_pipelines.bam.hts_header_check import check_hts_header
from just_dna_pipelines.bam.htslib import HTS_CRAM, HTS_SAM, file_offset, htslib
from just_dna_pipelines.errors import BamError

# SAM_FLAG | SAM_RNAME | SAM_POS | SAM_MAPQ (sam.h): no SAM_SEQ, so no reference is ever needed; and no
# MD/NM tags made up on the fly (nothing reads them)
CRAM_OPTIONS = (f"required_fields={0x2 | 0x4 | 0x8 | 0x10}", "decode_md=0")
_EOF_ABSENT = 0
_HTS_FORMATS = {AlignmentFormat.CRAM: HTS_CRAM, AlignmentFormat.SAM: HTS_SAM}


class BamCoreHead(ctypes.Structure):
    """The head of htslib's `bam1_core_t` (sam.h, the libhts.so.3 ABI): what the statistics read."""

    _fields_ = [
        ("pos", ctypes.c_int64),
        ("tid", ctypes.c_int32),
        ("bin", ctypes.c_uint16),
        ("qual", ctypes.c_uint8),
        ("l_extranul", ctypes.c_uint8),
        ("flag", ctypes.c_uint16),
    ]


class HtsRecordReader:
    """Sequential records of a CRAM or SAM (plain, gzip or BGZF), local or remote, decoded by htslib."""

    def __init__(self, url: str, detected: DetectedFormat) -> None:
        if detected.format not in _HTS_FORMATS:
            raise ValueError(f"htslib records are read for CRAM and SAM, not {detected.format}")
        self.url = url
        self.detected = detected
        self.lib = htslib()
        self.header: int | None = None
        self.record: int | None = None
        check_hts_header(url, detected)  # htslib holds any header the file claims (a CRAM's as it opens)
        self.file = self.lib.hts_open(url.encode(), b"r")
        if not self.file:
            raise BamError(f"cannot open {url} as {detected.describe()}")
        try:
            self._check()
        except BaseException:
            self.close()
            raise

    def _check(self) -> None:
        """Format as detected, end-of-file marker present, header readable; CRAM decoding options set."""
        lib, name, kind = self.lib, self.url, self.detected.describe()
        if lib.hts_get_format(self.file).contents.format != _HTS_FORMATS[self.detected.format]:
            raise BamError(f"{name} looked like {kind} but htslib cannot read it as such")
        if self.detected.format is AlignmentFormat.CRAM:
            options = ctypes.c_void_p()
            added = [lib.hts_opt_add(ctypes.byref(options), option.encode()) for option in CRAM_OPTIONS]
            applied = lib.hts_opt_apply(self.file, options)
            lib.hts_opt_free(options)
            if any(added) or applied:
                raise RuntimeError(f"htslib refused the CRAM options {', '.join(CRAM_OPTIONS)}")
        if lib.hts_check_EOF(self.file) == _EOF_ABSENT:
            marker = (
                "CRAM end-of-file container"
                if self.detected.format is AlignmentFormat.CRAM
                else "BGZF end-of-file marker"
            )
            raise BamError(f"{name} is truncated: the {marker} is missing")
        self.header = lib.sam_hdr_read(self.file)
        if not self.header:
            raise BamError(f"{name} has a malformed or truncated {kind} header")
        self.record = lib.bam_init1()
        if not self.record:
            raise MemoryError("htslib could not allocate a record")

    @property
    def core(self) -> BamCoreHead:
        """The current record's core fields (the same memory for every record)."""
        if not self.record:
            raise RuntimeError("the record reader is closed")
        return BamCoreHead.from_address(self.record)

    def read_error(self, reads_before: int) -> BamError:
        """The error for a record htslib could not decode, after `reads_before` good ones."""
        if self.detected.format is AlignmentFormat.SAM:
            line = self.file.contents.lineno  # kept by htslib's single-threaded SAM parser
            reason = f"{self.url}: line {line:,} is not a valid SAM record"
            if not self.lib.sam_hdr_nref(self.header):
                reason += " (the header has no @SQ lines, so no read can name a reference)"
            return BamError(reason)
        return BamError(
            f"{self.url} is corrupt: the CRAM data after record {reads_before:,} cannot be decoded"
        )

    def compressed_offset(self) -> int:
        """About how many bytes of the file have been read (for progress)."""
        return file_offset(self.file) if self.file else 0

    def close(self) -> None:
        """Free the record and header and close the file."""
        if self.record:
            self.lib.bam_destroy1(self.record)
            self.record = None
        if self.header:
            self.lib.sam_hdr_destroy(self.header)
            self.header = None
        if self.file:
            self.lib.hts_close(self.file)
            self.file = None  # type: ignore[assignment]

    def __enter__(self) -> HtsRecordReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""A SAM's or CRAM's header, bounded before htslib reads it.

htslib holds a whole header in memory and trusts the sizes a file states, so a small file could claim an endless
header (a 600 KB bgzipped SAM with a 300 MB header took 3.9 GB and was accepted). The bounds are a BAM header's
(header.py): text up to MAX_HEADER_TEXT, up to MAX_REFERENCES reference lines.

- SAM (plain, gzip or BGZF): its header lines are read here first, a line at a time within the bounds, up to the
  first record.
- CRAM 2 and 3: the header is the first container's first block; the container's and the block's stated sizes
  are read from their headers (a few bytes) and checked. Other CRAM versions are refused (htslib reads 4.0 only
  as an experiment; no tool writes it).
"""

from __future__ import annotations

import contextlib
import gzip
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from typing import BinaryIO, cast

from just_dna_pipelines.bam.formats import AlignmentFormat, DetectedFormat
from just_dna_pipelines.bam.header import MAX_HEADER_TEXT, MAX_REFERENCES
from just_dna_pipelines.bam.source import HTTP_TIMEOUT_SECONDS, BamLocation, http_error, locate, read_head
from just_dna_pipelines.errors import BamError

CRAM_FILE_DEFINITION = 26  # "CRAM", major, minor, 20-byte file id
# A header container may hold room for the header to grow in place (htslib leaves some); beyond the text's bound
CONTAINER_SLACK = 1 << 20
CRAM_VERSIONS = (2, 3)
_CONTAINER_HEAD = 128  # more than a header container's header and its first block's header take


def check_hts_header(url: str, detected: DetectedFormat) -> None:
    """Raise BamError when the SAM or CRAM at `url` has a header beyond the bounds; read nothing past it."""
    if detected.format is AlignmentFormat.SAM:
        with _opened(locate(url), detected.compression != "none") as stream:
            _check_sam_header(stream, url)
    elif detected.format is AlignmentFormat.CRAM:
        _check_cram_header(read_head(locate(url), CRAM_FILE_DEFINITION + _CONTAINER_HEAD), url)


@contextlib.contextmanager
def _opened(location: BamLocation, compressed: bool) -> Iterator[BinaryIO]:
    """The file's bytes from its start, streamed (decompressed when `compressed`), local or over HTTP."""
    try:
        if location.path is not None:
            raw: BinaryIO = location.path.open("rb")
        else:
            raw = urllib.request.urlopen(location.url, timeout=HTTP_TIMEOUT_SECONDS)
    except (urllib.error.URLError, ValueError) as exc:
        raise http_error(location.url, exc) from exc
    except OSError as exc:
        raise BamError(f"cannot read {location.url}: {exc.strerror or exc}") from exc
    with raw:
        yield cast(BinaryIO, gzip.GzipFile(fileobj=raw)) if compressed else raw


def _check_sam_header(stream: BinaryIO, name: str) -> None:
    """Read the header lines (those starting with '@') within the bounds."""
    left, references = MAX_HEADER_TEXT, 0
    try:
        while True:
            line = stream.readline(left + 1)
            if not line.startswith(b"@"):
                return
            left -= len(line)
            if left < 0:
                raise BamError(f"{name} has a SAM header of more than {MAX_HEADER_TEXT >> 20} MB")
            if line.startswith(b"@SQ\t"):
                references += 1
                if references > MAX_REFERENCES:
                    raise BamError(f"{name} has more than {MAX_REFERENCES:,} @SQ lines in its SAM header")
    except (EOFError, OSError, zlib.error) as exc:
        raise BamError(f"{name} is truncated or corrupt in its SAM header: {exc}") from exc


def _check_cram_header(head: bytes, name: str) -> None:
    """Check the header container's length and its first block's sizes (`head`: the file's first bytes)."""
    major = head[4] if len(head) > 4 else 0
    if major not in CRAM_VERSIONS:
        versions = " and ".join(f"{v}.x" for v in CRAM_VERSIONS)
        raise BamError(
            f"{name} is CRAM version {major}.{head[5] if len(head) > 5 else 0}: only {versions} are read"
        )
    fields = _Fields(head, CRAM_FILE_DEFINITION, name)
    length = fields.int32()
    for _ in range(4):  # reference id, start, span, records
        fields.itf8()
    fields.ltf8() if major >= 3 else fields.itf8()  # record counter
    fields.ltf8()  # bases
    fields.itf8()  # blocks
    for _ in range(fields.itf8()):  # landmarks
        fields.itf8()
    if major >= 3:
        fields.skip(4)  # CRC32
    fields.skip(2)  # the block's compression method and content type
    fields.itf8()  # content id
    compressed, raw = fields.itf8(), fields.itf8()
    limit = MAX_HEADER_TEXT + CONTAINER_SLACK
    if not 0 <= length <= limit or not 0 <= compressed <= limit or not 0 <= raw <= MAX_HEADER_TEXT + 4:
        raise BamError(
            f"{name} claims a CRAM header of {max(length, compressed, raw):,} bytes "
            f"(more than {MAX_HEADER_TEXT >> 20} MB)"
        )


class _Fields:
    """Reads CRAM's integer encodings (int32, ITF8, LTF8) from `data` in turn."""

    def __init__(self, data: bytes, at: int, name: str) -> None:
        self.data, self.at, self.name = data, at, name

    def _take(self, size: int) -> bytes:
        if self.at + size > len(self.data):
            raise BamError(f"{self.name} is truncated or corrupt: its CRAM header container is cut short")
        taken = self.data[self.at : self.at + size]
        self.at += size
        return taken

    def skip(self, size: int) -> None:
        self._take(size)

    def int32(self) -> int:
        return int.from_bytes(self._take(4), "little", signed=True)

    def itf8(self) -> int:
        """CRAM's ITF8: 1 to 5 bytes, the count told by the first byte's leading ones; a signed 32-bit value."""
        first = self._take(1)[0]
        extra = next((n for n in range(4) if not first & (0x80 >> n)), 4)
        rest = self._take(extra)
        if extra == 4:
            value = (first & 0x0F) << 28 | rest[0] << 20 | rest[1] << 12 | rest[2] << 4 | (rest[3] & 0x0F)
        else:
            value = (first & (0x7F >> extra)) << (8 * extra) | int.from_bytes(rest, "big")
        return value - (1 << 32) if value >= 1 << 31 else value

    def ltf8(self) -> int:
        """CRAM's LTF8: 1 to 9 bytes, the count told by the first byte's leading ones; a signed 64-bit value."""
        first = self._take(1)[0]
        extra = next((n for n in range(8) if not first & (0x80 >> n)), 8)
        rest = self._take(extra)
        value = (first & (0x7F >> extra) if extra < 8 else 0) << (8 * extra) | int.from_bytes(rest, "big")
        return value - (1 << 64) if value >= 1 << 63 else value

"""What an alignment input is, told from its first bytes: BAM, CRAM or SAM (plain, gzip or BGZF), or what else.

The file name is never trusted: a CRAM called `.bam` is read as CRAM, and a VCF called `.bam` is named
as a VCF in the error.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from just_dna_pipelines.errors import BamError

# Enough for any whole first BGZF block (at most 64 KiB), so a BAM's magic is always inside.
HEAD_BYTES = 65536 + 1024
SUPPORTED = "only BAM, CRAM and SAM (plain, gzip or BGZF) can be streamed"
REWRITE_BAM = "samtools view -b rewrites it as a readable BAM"
SAM_HEADER_TAGS = (b"@HD\t", b"@SQ\t", b"@RG\t", b"@PG\t", b"@CO\t")
_SAM_FIELDS = 11
_INSPECT_BYTES = 4096  # decompressed bytes looked at to tell the content

Compression = Literal["BGZF", "gzip", "none"]


class AlignmentFormat(StrEnum):
    """The alignment formats the streamer reads."""

    BAM = "BAM"
    CRAM = "CRAM"
    SAM = "SAM"


@dataclass(frozen=True)
class DetectedFormat:
    """An input's alignment format, how it is compressed, and its version where the bytes say (CRAM)."""

    format: AlignmentFormat
    compression: Compression = "none"
    version: str = ""

    def describe(self) -> str:
        """For logs and the summary: `BAM`, `CRAM 3.0`, `SAM`, `SAM (BGZF-compressed)`."""
        if self.version:
            return f"{self.format} {self.version}"
        if self.format is AlignmentFormat.SAM and self.compression != "none":
            return f"SAM ({self.compression}-compressed)"
        return str(self.format)


def _first_line(text: bytes) -> bytes:
    """The first non-empty line, without its line ending."""
    for line in text.split(b"\n"):
        line = line.rstrip(b"\r")
        if line:
            return line
    return b""


def looks_like_sam(text: bytes) -> bool:
    """A SAM header line, or an alignment line of 11+ tab-separated fields with numeric FLAG and POS."""
    line = _first_line(text)
    if line.startswith(SAM_HEADER_TAGS):
        return True
    fields = line.split(b"\t")
    return len(fields) >= _SAM_FIELDS and fields[1].isdigit() and fields[3].isdigit()


def _third_line(data: bytes) -> bytes:
    """The third line (a FASTQ record's `+` separator line), or b"" when there is none."""
    lines = data.split(b"\n", 3)
    return lines[2] if len(lines) > 2 else b""


def _other_kind(data: bytes, compression: Compression = "none") -> str:
    """What a non-alignment input is, as a phrase for the error ("a VCF file", "gzip-compressed text", ...)."""
    prefix = "" if compression == "none" else f"{compression}-compressed "
    if data.startswith(b"##fileformat=VCF"):
        noun = "VCF file"
    elif data.startswith(b"BCF\x02"):
        noun = "BCF file"
    elif data.startswith((b"BAI\x01", b"CSI\x01")):
        noun = "index file (.bai or .csi)"
    elif data.startswith(b">"):
        noun = "FASTA file"
    elif data.startswith(b"@") and _third_line(data).startswith(b"+"):
        noun = "FASTQ file (unaligned reads)"
    elif b"\x00" in data[:_INSPECT_BYTES]:
        return f"{prefix}binary data of an unknown kind"
    else:
        return f"{prefix}text that is not SAM"
    phrase = prefix + noun
    return ("an " if phrase[0] in "aeiouAEIOU" else "a ") + phrase


def _inflate_start(head: bytes, name: str) -> bytes:
    """The first decompressed bytes of gzip or BGZF data (across empty members), or a BamError if corrupt."""
    out = b""
    rest = head
    try:
        while rest[:2] == b"\x1f\x8b" and len(out) < _INSPECT_BYTES:
            member = zlib.decompressobj(wbits=31)
            out += member.decompress(rest, _INSPECT_BYTES)
            if not member.eof:
                if not out:
                    raise BamError(f"{name} is truncated or corrupt: it ends inside its first gzip block")
                break
            rest = member.unused_data
    except zlib.error as exc:
        raise BamError(f"{name} is corrupt: its gzip data cannot be decompressed") from exc
    return out


def _compressed_format(head: bytes, name: str) -> DetectedFormat:
    """BAM or SAM inside gzip or BGZF, or a BamError naming what is inside instead."""
    bgzf = len(head) >= 14 and head[3] & 4 and head[12:14] == b"BC"
    compression: Compression = "BGZF" if bgzf else "gzip"
    inner = _inflate_start(head, name)
    if inner.startswith(b"BAM\x01"):
        if not bgzf:
            raise BamError(f"{name} is a BAM compressed with plain gzip, not BGZF ({REWRITE_BAM})")
        return DetectedFormat(AlignmentFormat.BAM, "BGZF")
    if looks_like_sam(inner):
        return DetectedFormat(AlignmentFormat.SAM, compression)
    if not inner:
        raise BamError(f"{name} is {compression}-compressed but empty once decompressed; {SUPPORTED}")
    raise BamError(f"{name} is {_other_kind(inner, compression)}; {SUPPORTED}")


def detect_format(head: bytes, name: str) -> DetectedFormat:
    """The alignment format of an input from its first bytes (HEAD_BYTES of them, or the whole file)."""
    if not head:
        raise BamError(f"{name} is empty (0 bytes); {SUPPORTED}")
    if head.startswith(b"CRAM"):
        version = f"{head[4]}.{head[5]}" if len(head) >= 6 else "?"
        return DetectedFormat(AlignmentFormat.CRAM, "none", version)
    if head.startswith(b"\x1f\x8b"):
        return _compressed_format(head, name)
    if head.startswith(b"BAM\x01"):
        raise BamError(f"{name} is an uncompressed BAM stream, not BGZF ({REWRITE_BAM})")
    if looks_like_sam(head):
        return DetectedFormat(AlignmentFormat.SAM)
    raise BamError(f"{name} is {_other_kind(head)}; {SUPPORTED}")

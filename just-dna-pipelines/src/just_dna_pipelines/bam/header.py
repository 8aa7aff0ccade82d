"""The BAM header: checked and skipped before the alignment records are scanned."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from just_dna_pipelines.bam.buffer import DecompressedBuffer
from just_dna_pipelines.errors import BamError

BAM_MAGIC = b"BAM\x01"
# Bounds on the header's own fields, checked as soon as each is read (before the header is buffered whole): far
# beyond real files (a header is kilobytes to a few megabytes; a draft assembly has some hundred thousand contigs),
# and a small crafted file can no longer make the reader hold gigabytes (a 660 KB BAM claiming a 400 MB header
# text took 2.4 GB and was accepted).
MAX_HEADER_TEXT = 64 << 20
MAX_REFERENCES = 1_000_000
MAX_REFERENCE_NAME = 64 << 10
_i32 = struct.Struct("<i").unpack_from


@dataclass(frozen=True)
class BamHeader:
    """What the BAM header says that the statistics report."""

    reference_names: tuple[str, ...]
    text: str


def parse_header(buf: bytes | bytearray, name: str) -> tuple[BamHeader, int] | None:
    """The header and the offset of the first record, or None if `buf` does not hold the whole header yet."""
    if len(buf) < 4:
        return None
    if buf[:4] != BAM_MAGIC:
        raise BamError(f"{name} is BGZF-compressed but not a BAM file (no BAM magic; VCF or other data?)")
    if len(buf) < 12:
        return None
    l_text = _i32(buf, 4)[0]
    pos = 8 + l_text
    if l_text < 0:
        raise BamError(f"{name} has a corrupt BAM header")
    if l_text > MAX_HEADER_TEXT:
        raise BamError(
            f"{name} claims a BAM header text of {l_text:,} bytes (more than {MAX_HEADER_TEXT >> 20} MB)"
        )
    if len(buf) < pos + 4:
        return None
    text = bytes(buf[8:pos]).split(b"\x00", 1)[0].decode("utf-8", "replace")
    n_ref = _i32(buf, pos)[0]
    if not 0 <= n_ref <= MAX_REFERENCES:
        raise BamError(f"{name} claims {n_ref:,} reference sequences (0 to {MAX_REFERENCES:,} are read)")
    pos += 4
    names: list[str] = []
    for _ in range(n_ref):
        if len(buf) < pos + 4:
            return None
        l_name = _i32(buf, pos)[0]
        if not 1 <= l_name <= MAX_REFERENCE_NAME:
            raise BamError(f"{name} has a corrupt BAM header (a reference name of {l_name:,} bytes)")
        if len(buf) < pos + 4 + l_name + 4:
            return None
        names.append(bytes(buf[pos + 4 : pos + 3 + l_name]).decode("ascii", "replace"))
        pos += 4 + l_name + 4
    return BamHeader(reference_names=tuple(names), text=text), pos


def skip_header(data: DecompressedBuffer, name: str) -> BamHeader:
    """Read the header from the start of the stream and leave `data` at the first record."""
    while True:
        parsed = parse_header(data.view(), name)
        if parsed is not None:
            header, first_record = parsed
            data.consume(data.start + first_record)
            return header
        if not data.fill():
            raise BamError(f"{name} is truncated: the BAM header is incomplete")

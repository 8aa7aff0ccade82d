"""A VCF's decompressed bytes in bounded pieces: total size and line length are checked before buffering.

A 1 MB gzip can inflate to a 1 GiB line; every reader that would hold a line (Python's line iteration,
Polars, htslib) is only given a file after these checks, so memory stays bounded whatever the input.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.io.bgzf_inflate import NotBgzf, bgzf_pieces
from just_dna_pipelines.io.vcf_limits import MAX_BLANK_LINES, ReadLimits

CHUNK = 1 << 20  # decompressed piece size; a piece never exceeds the line limit (see check_text_bounds)
READ_SIZE = 1 << 18  # compressed bytes read at a time
GZIP_MAGIC = b"\x1f\x8b"
BLANK_RUN = re.compile(rb"\n(?:\r?\n)+")  # a newline followed by empty lines: one match per run, however long


def is_gzip(path: Path) -> bool:
    """Whether the file starts with the gzip magic bytes (gzip or BGZF)."""
    with path.open("rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def _inflate(path: Path, piece: int, offset: int = 0) -> Iterator[bytes]:
    """Inflate every gzip member from `offset` on with zlib, in pieces of at most `piece` bytes."""
    inflater = zlib.decompressobj(31)
    pending = b""
    member_open = False
    with path.open("rb") as handle:
        handle.seek(offset)
        while True:
            if not pending:
                pending = handle.read(READ_SIZE)
                if not pending:
                    break
            if inflater.eof:
                if not pending.strip(b"\0"):  # zero padding after the last member, as gzip(1) allows
                    pending = b""
                    continue
                inflater = zlib.decompressobj(31)
            try:
                out = inflater.decompress(pending, piece)
            except zlib.error:
                raise VcfError(f"{path.name} is a damaged gzip file (invalid compressed data)") from None
            member_open = not inflater.eof
            pending = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
            if out:
                yield out
    if member_open:
        raise VcfError(f"{path.name} is truncated (its gzip data ends early)")


def _gzip(path: Path, piece: int) -> Iterator[bytes]:
    """Inflate a gzip file: BGZF blocks with libdeflate while they last (fast), then zlib for the rest."""
    for item in bgzf_pieces(path):
        if isinstance(item, NotBgzf):
            yield from _inflate(path, piece, item.offset)
            return
        for at in range(0, len(item), piece):
            yield item[at : at + piece] if len(item) > piece else item


def _plain(path: Path, piece: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(piece):
            yield chunk


def too_large(path: Path, limits: ReadLimits) -> VcfError:
    """The error for a file that inflates beyond the size limit."""
    return VcfError(
        f"{path.name} decompresses to more than {limits.describe_size()}, so it is refused as a likely "
        "decompression bomb (the limit is JUST_DNA_PIPELINES_MAX_DECOMPRESSED_GB)"
    )


def decompressed_chunks(path: Path, limits: ReadLimits) -> Iterator[bytes]:
    """The file's bytes, inflated when gzipped, in pieces no longer than the line limit; refuse past the size limit."""
    piece = min(CHUNK, limits.max_line_bytes)
    total = 0
    for chunk in (_gzip if is_gzip(path) else _plain)(path, piece):
        total += len(chunk)
        if total > limits.max_decompressed_bytes:
            raise too_large(path, limits)
        yield chunk


def line_too_long(path: Path, limits: ReadLimits) -> VcfError:
    """The error for a line (or BCF record) beyond the line limit."""
    return VcfError(
        f"{path.name} has a line longer than {limits.describe_line()}, so it is refused as damaged or hostile "
        "(VCF lines are normally kilobytes; the limit is JUST_DNA_PIPELINES_MAX_LINE_MB)"
    )


def bounded_lines(path: Path, limits: ReadLimits) -> Iterator[bytes]:
    """The file's lines (without line endings), never buffering more than one line plus one piece."""
    open_parts: list[bytes] = []  # pieces of the line still open, joined once it ends
    open_size = 0
    for chunk in decompressed_chunks(path, limits):
        if b"\n" not in chunk:
            open_parts.append(chunk)
            open_size += len(chunk)
            if open_size > limits.max_line_bytes:
                raise line_too_long(path, limits)
            continue
        lines = (b"".join(open_parts) + chunk).split(b"\n")
        tail = lines.pop()
        open_parts, open_size = [tail], len(tail)
        for line in lines:
            if len(line) > limits.max_line_bytes:
                raise line_too_long(path, limits)
            yield line.removesuffix(b"\r")
    if open_size:
        yield b"".join(open_parts).removesuffix(b"\r")


@dataclass(frozen=True)
class TextShape:
    """Size and line counts of a text file, gathered while its bounds are checked."""

    size: int  # decompressed bytes
    lines: int  # lines, the last one counted even without a final newline
    blank_lines: int  # empty lines (tolerated between records, never records)


def _blank_lines(tail: bytes, chunk: bytes) -> int:
    """Empty lines (or just "\r") ending in `chunk`; `tail` is the end of the previous piece.

    The common case costs one search: a piece without "\n\n" (nor "\n\r\n" when it has a "\r") has none.
    """
    count = 0
    if b"\n\n" in chunk or (b"\r" in chunk and b"\n\r\n" in chunk):
        count = sum(m.group().count(b"\n") - 1 for m in BLANK_RUN.finditer(chunk))
    if b"\n" in tail:  # a blank line whose preceding newline ends the previous piece
        head = chunk[:1] if chunk[:1] == b"\n" else chunk[:2] if chunk[:2] == b"\r\n" else b""
        if head and (tail.endswith(b"\n") or (tail.endswith(b"\r") and b"\n" in tail[-2:-1])):
            count += 1
    return count


def check_text_bounds(path: Path, limits: ReadLimits) -> TextShape:
    """Read the whole (decompressed) text once, refusing a line or a total beyond the limits; return its shape.

    Pieces are never longer than the line limit, so a line inside a piece is short enough; only the line
    running across piece boundaries needs tracking, which keeps this at inflate speed.
    """
    size = lines = blanks = 0
    run = 0  # length of the line still open at the end of the last piece
    previous = b""  # the last two bytes of the previous piece, for blank lines across the boundary
    for chunk in decompressed_chunks(path, limits):
        size += len(chunk)
        lines += chunk.count(b"\n")
        blanks += _blank_lines(previous, chunk)
        if blanks > MAX_BLANK_LINES:
            raise VcfError(
                f"{path.name} has more than {MAX_BLANK_LINES:,} empty lines, so it is refused as damaged or hostile"
            )
        previous = chunk[-2:]
        first = chunk.find(b"\n")
        if first < 0:
            run += len(chunk)
        else:
            if run + first > limits.max_line_bytes:
                raise line_too_long(path, limits)
            run = len(chunk) - chunk.rfind(b"\n") - 1
        if run > limits.max_line_bytes:
            raise line_too_long(path, limits)
    return TextShape(size, lines + (1 if run else 0), blanks)

"""Open a DNA-test raw file as the vendors ship it (.txt/.csv, gzipped, or one file in a .zip), with bounds.

Everything is copied, once, into a plain-text file in a work folder: decompressed size and line length are
capped while copying (a zip bomb or a binary file stops at the cap, whatever its headers claim), CR bytes are
dropped (Windows line ends) and a UTF-8 byte-order mark is removed.
"""

from __future__ import annotations

import gzip
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.io.zip_directory import oversized_directory

CHUNK = 1 << 20
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
GZIP_MAGIC = b"\x1f\x8b"


class RawInputError(VcfError):
    """A DNA-test raw file that cannot be read (damaged, too large, not text, not one genotype file)."""


@dataclass(frozen=True)
class RawLimits:
    """Bounds on a raw file once decompressed."""

    max_bytes: int
    max_line_bytes: int


def compression_of(path: Path) -> str:
    """ "zip", "gzip" or "none", from the first bytes (never the file name)."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head in (ZIP_MAGIC, EMPTY_ZIP_MAGIC):
        return "zip"
    if head[:2] == GZIP_MAGIC:
        return "gzip"
    return "none"


def _zip_member(archive: zipfile.ZipFile, name: str, limits: RawLimits) -> zipfile.ZipInfo:
    """The one genotype file in a zip (folders and macOS metadata ignored); RawInputError otherwise."""
    members = [
        info
        for info in archive.infolist()
        if not info.is_dir()
        and not info.filename.startswith("__MACOSX/")
        and not info.filename.rsplit("/", 1)[-1].startswith("._")
    ]
    if len(members) != 1:
        raise RawInputError(
            f"{name} holds {len(members)} files; a DNA-test download zip holds one genotype file"
        )
    member = members[0]
    if member.flag_bits & 0x1:
        raise RawInputError(f"{name} is password-protected; unzip it and upload the text file")
    if member.file_size > limits.max_bytes:
        raise RawInputError(
            f"{name} unpacks to more than {limits.max_bytes // 2**20} MB; that is not a DNA-test file"
        )
    return member


@contextmanager
def _open_stream(path: Path, limits: RawLimits) -> Iterator[IO[bytes]]:
    """A binary stream of the file's decompressed content."""
    kind = compression_of(path)
    if kind == "gzip":
        with gzip.open(path, "rb") as stream:
            yield cast(IO[bytes], stream)
    elif kind == "zip":
        if problem := oversized_directory(path):
            raise RawInputError(problem)
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise RawInputError(f"{path.name} is a damaged zip file ({exc})") from None
        with archive:
            yield archive.open(_zip_member(archive, path.name, limits))
    else:
        with path.open("rb") as stream:
            yield stream


def _check_lines(block: bytes, carried: int, limits: RawLimits, name: str) -> int:
    """Raise if a line in `block` (continuing a line of `carried` bytes) is too long; return the open line's length."""
    pieces = block.split(b"\n")
    first = carried + len(pieces[0])
    longest = max([first, *(len(p) for p in pieces[1:])])
    if longest > limits.max_line_bytes:
        raise RawInputError(
            f"{name} has a line longer than {limits.max_line_bytes} bytes; not a DNA-test raw file"
        )
    return first if len(pieces) == 1 else len(pieces[-1])


def extract_text(path: Path, workdir: Path, limits: RawLimits) -> Path:
    """Copy the decompressed text of `path` into `workdir` within `limits`; RawInputError (one line) if not possible."""
    target = workdir / "raw.txt"
    total = 0
    open_line = 0
    try:
        with _open_stream(path, limits) as stream, target.open("wb") as out:
            first = True
            while chunk := stream.read(CHUNK):
                total += len(chunk)
                if total > limits.max_bytes:
                    raise RawInputError(
                        f"{path.name} is larger than {limits.max_bytes // 2**20} MB once decompressed; "
                        "not a DNA-test raw file"
                    )
                if b"\x00" in chunk:
                    raise RawInputError(f"{path.name} is not a text genotype file (binary content)")
                if first:
                    chunk = chunk.removeprefix(b"\xef\xbb\xbf")
                    first = False
                chunk = chunk.replace(b"\r", b"")
                open_line = _check_lines(chunk, open_line, limits, path.name)
                out.write(chunk)
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile, NotImplementedError) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RawInputError(f"{path.name} is truncated or a damaged archive ({text})") from None
    if total == 0:
        raise RawInputError(f"{path.name} is empty")
    return target

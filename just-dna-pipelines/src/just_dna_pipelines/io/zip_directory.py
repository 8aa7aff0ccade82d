"""The size of a zip's central directory, read from its end record before the zip is opened.

Python's zipfile reads a whole central directory into memory (an object per entry) as it opens a zip, so a small
upload listing millions of empty entries took about ten times its size in memory. A DNA-test download holds one
genotype file (sometimes with a folder entry or macOS metadata), so the directory is bounded from the end record
(and its ZIP64 form) first: a few bytes at the end of the file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

# signature, disks, entries here, entries, directory size, offset, comment length
END_RECORD = struct.Struct("<4s4H2LH")
END_SIGNATURE = b"PK\x05\x06"
ZIP64_LOCATOR = struct.Struct("<4sLQL")  # signature, disk, offset of the ZIP64 end record, disks
ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
# signature, size, versions, disks, entries here, entries, directory size, offset
ZIP64_END_RECORD = struct.Struct("<4sQ2H2L4Q")
ZIP64_END_SIGNATURE = b"PK\x06\x06"
MAX_COMMENT = 0xFFFF
MAX_ENTRIES = 1_000
MAX_DIRECTORY_BYTES = 1 << 20


@dataclass(frozen=True)
class ZipDirectory:
    """What a zip's end record states: how many entries its central directory lists, and its size in bytes."""

    entries: int
    size: int


def zip_directory(path: Path) -> ZipDirectory | None:
    """The directory's stated entries and size; None when no end record is found (a damaged zip)."""
    with path.open("rb") as handle:
        file_size = handle.seek(0, 2)
        tail_size = min(file_size, END_RECORD.size + MAX_COMMENT)
        handle.seek(file_size - tail_size)
        tail = handle.read(tail_size)
        at = tail.rfind(END_SIGNATURE)
        if at < 0 or at + END_RECORD.size > len(tail):
            return None
        fields = END_RECORD.unpack_from(tail, at)
        locator_at = at - ZIP64_LOCATOR.size
        if locator_at < 0 or tail[locator_at : locator_at + 4] != ZIP64_LOCATOR_SIGNATURE:
            return ZipDirectory(entries=fields[4], size=fields[5])
        # With a ZIP64 locator before it, the ZIP64 end record's figures are the ones readers use.
        record_offset = ZIP64_LOCATOR.unpack_from(tail, locator_at)[2]
        handle.seek(record_offset)
        record = handle.read(ZIP64_END_RECORD.size)
        if len(record) < ZIP64_END_RECORD.size or record[:4] != ZIP64_END_SIGNATURE:
            return None
        zip64 = ZIP64_END_RECORD.unpack(record)
        return ZipDirectory(entries=zip64[7], size=zip64[8])


def oversized_directory(path: Path) -> str | None:
    """Why the zip's directory is too large to read (one line), or None."""
    directory = zip_directory(path)
    if directory is None:
        return None  # zipfile names the damage
    if directory.entries > MAX_ENTRIES or directory.size > MAX_DIRECTORY_BYTES:
        return (
            f"{path.name} is a zip listing {directory.entries:,} files in a {directory.size:,}-byte directory; "
            "a DNA-test download zip holds one genotype file"
        )
    return None

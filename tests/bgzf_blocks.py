"""BGZF block layout of a file's bytes, for tests that damage one block of a BAM or a bgzipped VCF."""

from __future__ import annotations

import struct


def bgzf_blocks(data: bytes) -> list[tuple[int, int]]:
    """(offset, size) of every BGZF block, from the BSIZE fields."""
    found, at = [], 0
    while at < len(data):
        size = struct.unpack_from("<H", data, at + 16)[0] + 1
        found.append((at, size))
        at += size
    return found

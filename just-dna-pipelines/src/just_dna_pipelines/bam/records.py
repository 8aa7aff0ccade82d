"""The layout facts of a BAM alignment record that the chunk scanners rely on, and their shared errors.

A record (SAM/BAM spec 4.2) starts with its int32 block_size (the bytes that follow it), then refID
(int32, -1 for unplaced reads), pos (int32, 0-based), ..., MAPQ (uint8) and FLAG (uint16). The C scanner
(_chunk_scan.c) reads the same offsets.
"""

from just_dna_pipelines.errors import BamError

# Byte offsets from the start of a record, block_size included.
REF_ID_HIGH_BYTE, POS, MAPQ, FLAG_LOW_BYTE = 7, 8, 13, 18
MIN_BLOCK_SIZE = 32  # the fixed part of a record after block_size
# The most a record may claim: the buffer grows to hold a whole record, so a corrupt or hostile size would take
# that much memory (a 200 MB claim took 880 MB). The longest sequenced reads (a few Mbp, with their qualities and
# base-modification tags) take a few MB.
MAX_BLOCK_SIZE = 64 << 20
FLAG_UNMAPPED = 0x4


def corrupt_record(name: str, block_size: int, reads_before: int) -> BamError:
    """The error for a record whose block size cannot be right."""
    return BamError(
        f"{name} is corrupt: read record {reads_before + 1:,} claims {block_size:,} bytes, "
        f"fewer than the {MIN_BLOCK_SIZE} every record has"
    )


def oversized_record(name: str, pending: bytes | bytearray, reads_before: int) -> BamError | None:
    """The error for a record (starting `pending`, the bytes not consumed yet) claiming more than MAX_BLOCK_SIZE,
    or None when it does not (or its size is not read yet)."""
    if len(pending) < 4:
        return None
    block_size = int.from_bytes(pending[:4], "little", signed=True)
    if block_size <= MAX_BLOCK_SIZE:
        return None
    return BamError(
        f"{name} is corrupt: read record {reads_before + 1:,} claims {block_size:,} bytes, more than the "
        f"{MAX_BLOCK_SIZE >> 20} MB any read takes"
    )


def truncated_record(name: str) -> BamError:
    """The error for a file that ends in the middle of a record."""
    return BamError(f"{name} is truncated: it ends inside a read record")

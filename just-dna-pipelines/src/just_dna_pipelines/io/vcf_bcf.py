"""BCF input: its header text and record sizes read within bounds, and conversion to VCF text for scanning."""

from __future__ import annotations

import struct
from pathlib import Path

from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.io.htslib_quiet import htslib_error_line, quiet_htslib
from just_dna_pipelines.io.vcf_limits import MAX_HEADER_BYTES, ReadLimits
from just_dna_pipelines.io.vcf_stream import decompressed_chunks, line_too_long

MAGIC_SIZE = 9  # "BCF", major, minor, then the header text length (uint32)


def _not_bcf(path: Path) -> VcfError:
    return VcfError(f"{path.name} is not a readable BCF (damaged or truncated)")


def bcf_header_text(path: Path, limits: ReadLimits) -> str:
    """The header text of a BCF, read directly from its (bounded) decompressed bytes."""
    data = b""
    length = None
    for chunk in decompressed_chunks(path, limits):
        data += chunk
        if length is None and len(data) >= MAGIC_SIZE:
            if data[:3] != b"BCF":
                raise _not_bcf(path)
            (length,) = struct.unpack_from("<I", data, 5)
            if length > MAX_HEADER_BYTES:
                raise VcfError(f"{path.name} has a header larger than {MAX_HEADER_BYTES >> 20} MB")
        if length is not None and len(data) >= MAGIC_SIZE + length:
            text = data[MAGIC_SIZE : MAGIC_SIZE + length].rstrip(b"\0")
            try:
                return text.decode("utf-8")
            except UnicodeDecodeError:
                raise _not_bcf(path) from None
    raise _not_bcf(path)


def check_bcf_bounds(path: Path, limits: ReadLimits, max_records: int | None = None) -> int:
    """Walk the BCF's record lengths (all, or the first `max_records`) without holding a record; return how many.

    A record beyond the line limit, a total beyond the size limit or a cut record is refused before htslib
    (which holds a whole record in memory) reads it.
    """
    pending = b""  # at most one 8-byte length pair still incomplete
    skip = 0  # bytes of the current header or record body still to pass
    header_done = False
    records = 0
    for chunk in decompressed_chunks(path, limits):
        data = pending + chunk
        at, size = 0, len(data)
        while True:
            if skip:
                step = min(skip, size - at)
                at += step
                skip -= step
                if skip:
                    break
            if not header_done:
                if size - at < MAGIC_SIZE:
                    break
                if data[at : at + 3] != b"BCF":
                    raise _not_bcf(path)
                (skip,) = struct.unpack_from("<I", data, at + 5)
                if skip > MAX_HEADER_BYTES:
                    raise VcfError(f"{path.name} has a header larger than {MAX_HEADER_BYTES >> 20} MB")
                at += MAGIC_SIZE
                header_done = True
                continue
            if max_records is not None and records >= max_records:
                return records
            if size - at < 8:
                break
            shared, individual = struct.unpack_from("<II", data, at)
            if shared + individual > limits.max_line_bytes:
                raise line_too_long(path, limits)
            at += 8
            skip = shared + individual
            records += 1
        pending = data[at:]
    if skip or pending or not header_done:
        raise _not_bcf(path)
    return records


def bcf_as_vcf(path: Path, workdir: Path) -> Path:
    """Convert a BCF to VCF text with the htslib bundled in pysam (BCF has no text to scan)."""
    import pysam.bcftools

    out = workdir / "converted.vcf"
    with quiet_htslib():
        try:
            pysam.bcftools.view(str(path), "-Ov", "-o", str(out), catch_stdout=False)
        except pysam.utils.SamtoolsError as exc:
            raise VcfError(f"{path.name} is not a readable BCF ({htslib_error_line(exc)})") from None
    return out

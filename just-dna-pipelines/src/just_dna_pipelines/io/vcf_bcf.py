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
    (which holds a whole record in memory) reads it. The inner loop is kept to a few operations per record:
    a whole genome has millions.
    """
    unpack = struct.Struct("<II").unpack_from
    most = limits.max_line_bytes
    wanted = max_records if max_records is not None else -1
    pending = b""  # the bytes of a length pair cut by a piece boundary
    skip = -1  # bytes still to pass in the current header or record body; -1 before the header
    records = 0
    for chunk in decompressed_chunks(path, limits):
        data = pending + chunk if pending else chunk
        size = len(data)
        at = 0
        if skip < 0:
            if size < MAGIC_SIZE:
                pending = data
                continue
            if data[:3] != b"BCF":
                raise _not_bcf(path)
            (length,) = struct.unpack_from("<I", data, 5)
            if length > MAX_HEADER_BYTES:
                raise VcfError(f"{path.name} has a header larger than {MAX_HEADER_BYTES >> 20} MB")
            skip = length
            at = MAGIC_SIZE
        at += skip
        while at + 8 <= size and records != wanted:
            shared, individual = unpack(data, at)
            if shared + individual > most:
                raise line_too_long(path, limits)
            at += 8 + shared + individual
            records += 1
        if records == wanted:
            return records
        skip = max(at - size, 0)
        pending = data[at:] if at < size else b""
    if skip != 0 or pending:
        raise _not_bcf(path)
    return records


def bcf_as_vcf(path: Path, workdir: Path, limits: ReadLimits) -> Path:
    """Convert a BCF to VCF text with the htslib bundled in pysam (BCF has no text to scan), within `limits`.

    Text takes several times a record's binary size (a genotype byte becomes "0|1\t"), so a BCF whose records are
    within the line limit can still convert to longer lines (14 MB records became 70 MB lines): the text is
    checked against the limits before anything reads its lines (an error names the BCF the person gave).
    """
    import pysam.bcftools

    from just_dna_pipelines.io.vcf_stream import check_text_bounds

    # the name tells bcftools the output's compression (none), whatever -O says
    out = workdir / "converted.vcf"
    with quiet_htslib():
        try:
            pysam.bcftools.view(str(path), "-Ov", "-o", str(out), catch_stdout=False)
        except pysam.utils.SamtoolsError as exc:
            raise VcfError(f"{path.name} is not a readable BCF ({htslib_error_line(exc)})") from None
    try:
        check_text_bounds(out, limits)
    except VcfError as exc:
        raise VcfError(path.name + str(exc).removeprefix(out.name)) from None
    return out

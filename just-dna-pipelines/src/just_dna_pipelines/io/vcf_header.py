"""Read a VCF/BCF header within bounds: version, samples, contigs, build, contig naming; reject what is not a VCF."""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from just_dna_pipelines.errors import VcfError, quoted
from just_dna_pipelines.io.genome_build import detect_genome_build
from just_dna_pipelines.io.vcf_limits import (
    MAX_HEADER_BYTES,
    MAX_HEADER_LINES,
    MAX_SAMPLES,
    ReadLimits,
    read_limits,
)
from just_dna_pipelines.io.vcf_stream import bounded_lines

# Numbers are bounded in digits (and may not run on past the bound) because int() refuses more than 4,300
# digits with a ValueError. A contig length that is no plausible number (over 12 digits: a terabase) is read
# as unknown, like a missing or non-numeric one (length is optional); a version that is none is no VCF.
CONTIG_LINE = re.compile(r"^##contig=<ID=([^,>]+)(?:,.*?length=(\d{1,12})(?!\d))?", re.IGNORECASE)
VERSION_LINE = re.compile(r"^##fileformat=VCFv?(\d{1,9})(?!\d)(?:\.(\d{1,9})(?!\d))?", re.IGNORECASE)
GVCF_MARKERS = ("##GVCFBlock", "##ALT=<ID=NON_REF", "##ALT=<ID=*,", "##gvcf")
FIXED_COLUMNS = ["CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]
BOM = "\ufeff"


@dataclass(frozen=True)
class VcfHeader:
    """Facts a VCF's header tells, before any record is read."""

    path: Path
    container: str  # "vcf", "vcf.gz" (gzip or bgzip) or "bcf"
    version: str  # "4.2", ...
    samples: list[str]
    contigs: dict[str, int]
    reference: str | None
    genome_build: str  # "GRCh38", "GRCh37" or "unknown"
    contig_naming: str  # "chr", "plain" or "unknown"
    is_gvcf: bool  # the header says gVCF (markers); VcfPreview.is_gvcf also looks at the records
    format_fields: list[str]
    info_fields: list[str]
    header_lines: int
    warnings: list[str] = field(default_factory=list)


def detect_container(path: Path) -> str:
    """Tell VCF text, gzipped VCF and BCF apart by their first bytes, not by the file name."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if not head:
        raise VcfError(f"{path.name} is empty")
    if head[:3] == b"BCF":
        return "bcf"
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as handle:
                inner = handle.read(4)
        except (OSError, EOFError, zlib.error):
            raise VcfError(f"{path.name} is a damaged gzip file") from None
        if not inner:
            raise VcfError(f"{path.name} is empty once decompressed")
        return "bcf" if inner[:3] == b"BCF" else "vcf.gz"
    return "vcf"


def _text_header_lines(path: Path, limits: ReadLimits) -> tuple[list[str], str | None]:
    """The ## lines and the #CHROM line, and the first record line (None when there is none)."""
    lines: list[str] = []
    size = 0
    for raw in bounded_lines(path, limits):
        line = raw.decode("utf-8", errors="replace")
        if not lines:
            line = line.removeprefix(BOM)  # a byte-order mark from a Windows editor is not content
        if not line.startswith("#"):
            return lines, line
        lines.append(line)
        size += len(raw) + 1
        if line.startswith("#CHROM") or size > MAX_HEADER_BYTES:
            break
        if len(lines) > MAX_HEADER_LINES:
            raise _too_many_header_lines(path)
    return lines, None


def _too_many_header_lines(path: Path) -> VcfError:
    return VcfError(
        f"{path.name} has more than {MAX_HEADER_LINES:,} header lines, so it is refused as damaged or hostile"
    )


def _header_lines(path: Path, container: str, limits: ReadLimits) -> tuple[list[str], str | None]:
    if container == "bcf":
        from just_dna_pipelines.io.vcf_bcf import bcf_header_text

        text = bcf_header_text(path, limits).rstrip("\n")
        if text.count("\n") >= MAX_HEADER_LINES:
            raise _too_many_header_lines(path)
        return text.split("\n"), None
    return _text_header_lines(path, limits)


def _not_a_vcf(path: Path, lines: list[str], first_record: str | None) -> VcfError:
    """Why a file without a VCF header is refused, naming the consumer raw-data shape when it is one."""
    from just_dna_pipelines.io.raw_genotypes import looks_like_raw_genotypes

    if looks_like_raw_genotypes(lines, first_record):
        return VcfError(
            f"{path.name} looks like a consumer DNA-test raw file (rsid, chromosome, position, genotype), "
            "not a VCF"
        )
    return VcfError(f"{path.name} is not a VCF (no ##fileformat=VCF header line)")


def _columns(path: Path, chrom_line: str) -> tuple[list[str], list[str]]:
    """The sample names of the #CHROM line, and warnings; refuse a line that is not tab-separated VCF columns."""
    if chrom_line.count("\t") > MAX_SAMPLES + len(FIXED_COLUMNS):  # counted before millions of names are made
        raise VcfError(
            f"{path.name} has more than {MAX_SAMPLES:,} sample columns; this app reads VCFs of fewer people"
        )
    columns = chrom_line[1:].split("\t")
    if columns[:8] != FIXED_COLUMNS:
        if chrom_line[1:].split()[:8] == FIXED_COLUMNS:
            raise VcfError(f"{path.name} has its #CHROM line separated by spaces, not tabs")
        raise VcfError(f"{path.name} has malformed VCF columns: {quoted(' '.join(columns[:8]))}")
    samples = columns[9:] if len(columns) > 9 else []
    warnings = []
    if samples and samples[-1] == "":
        while samples and samples[-1] == "":
            samples.pop()
        warnings.append("the #CHROM line ends with a tab (an empty sample name); it was ignored")
    return samples, warnings


def read_vcf_header(path: Path, limits: ReadLimits | None = None) -> VcfHeader:
    """Parse the header of a .vcf, .vcf.gz or .bcf; raise VcfError with a one-line reason if it is not a VCF."""
    if not path.exists():
        raise VcfError(f"file not found: {path.name}")
    if not path.is_file():
        raise VcfError(f"not a file: {path.name}")
    limits = limits or read_limits()
    container = detect_container(path)
    lines, first_record = _header_lines(path, container, limits)
    version = VERSION_LINE.match(lines[0]) if lines else None
    if version is None:
        raise _not_a_vcf(path, lines, first_record)
    major, minor = int(version.group(1)), version.group(2) or "0"
    if major < 4:
        raise VcfError(
            f"{path.name} is VCF version {major}.{minor}, older than this app reads (VCF 4.0 or later); "
            "export it again as VCF 4.x"
        )
    chrom_line = lines[-1]
    if not chrom_line.startswith("#CHROM"):
        raise VcfError(f"{path.name} is not a valid VCF (no #CHROM column line)")
    samples, warnings = _columns(path, chrom_line)
    contigs: dict[str, int] = {}
    reference = None
    format_fields = []
    info_fields = []
    for line in lines[1:-1]:
        if match := CONTIG_LINE.match(line):
            contigs[match.group(1)] = int(match.group(2) or 0)
        elif line.startswith("##reference="):
            reference = line.split("=", 1)[1]
        elif line.startswith("##FORMAT=<ID="):
            format_fields.append(line[len("##FORMAT=<ID=") :].split(",", 1)[0])
        elif line.startswith("##INFO=<ID="):
            info_fields.append(line[len("##INFO=<ID=") :].split(",", 1)[0])
    build, build_warnings = detect_genome_build(contigs, reference)
    names = list(contigs)
    if names:
        with_chr = sum(name.lower().startswith("chr") for name in names)
        naming = "chr" if with_chr > len(names) / 2 else "plain"
    else:
        naming = "unknown"
    return VcfHeader(
        path=path,
        container=container,
        version=f"{major}.{minor}",
        samples=samples,
        contigs=contigs,
        reference=reference,
        genome_build=build,
        contig_naming=naming,
        is_gvcf=any(line.startswith(marker) for line in lines for marker in GVCF_MARKERS),
        format_fields=format_fields,
        info_fields=info_fields,
        header_lines=len(lines),
        warnings=build_warnings + warnings,
    )

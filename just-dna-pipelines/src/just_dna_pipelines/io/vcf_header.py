"""Read a VCF/BCF header: samples, contigs, genome build, contig naming, gVCF-ness; reject what is not a VCF."""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.io.genome_build import detect_genome_build

CONTIG_LINE = re.compile(r"^##contig=<ID=([^,>]+)(?:,.*?length=(\d+))?", re.IGNORECASE)
GVCF_MARKERS = ("##GVCFBlock", "##ALT=<ID=NON_REF", "##ALT=<ID=*,", "##gvcf")
MAX_HEADER_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class VcfHeader:
    """Facts a VCF's header tells, before any record is read."""

    path: Path
    container: str  # "vcf", "vcf.gz" (gzip or bgzip) or "bcf"
    samples: list[str]
    contigs: dict[str, int]
    reference: str | None
    genome_build: str  # "GRCh38", "GRCh37" or "unknown"
    contig_naming: str  # "chr", "plain" or "unknown"
    is_gvcf: bool
    format_fields: list[str]
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
        except (OSError, EOFError, zlib.error) as exc:
            raise VcfError(f"{path.name} is a damaged gzip file ({exc})") from None
        if not inner:
            raise VcfError(f"{path.name} is empty once decompressed")
        return "bcf" if inner[:3] == b"BCF" else "vcf.gz"
    return "vcf"


def _header_text_lines(path: Path, container: str) -> list[str]:
    """The header lines (## lines and the #CHROM line) as text."""
    if container == "bcf":
        import pysam

        previous = pysam.set_verbosity(0)  # our one-line error replaces htslib's own stderr lines
        try:
            with pysam.VariantFile(str(path)) as bcf:
                text = str(bcf.header)
        except (OSError, ValueError) as exc:
            raise VcfError(f"{path.name} is not a readable BCF ({exc})") from None
        finally:
            pysam.set_verbosity(previous)
        return text.rstrip("\n").split("\n")
    lines: list[str] = []
    size = 0
    opener = gzip.open if container == "vcf.gz" else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="strict", newline="") as handle:  # type: ignore[operator]
            for raw in handle:
                line = raw.rstrip("\r\n")
                size += len(raw)
                if not line.startswith("#"):
                    break
                lines.append(line)
                if line.startswith("#CHROM") or size > MAX_HEADER_BYTES:
                    break
    except UnicodeDecodeError:
        raise VcfError(f"{path.name} is not a VCF (binary content)") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise VcfError(f"{path.name} is a damaged or truncated gzip file ({exc})") from None
    return lines


def read_vcf_header(path: Path) -> VcfHeader:
    """Parse the header of a .vcf, .vcf.gz or .bcf; raise VcfError with a one-line reason if it is not a VCF."""
    if not path.exists():
        raise VcfError(f"file not found: {path}")
    if not path.is_file():
        raise VcfError(f"not a file: {path}")
    container = detect_container(path)
    lines = _header_text_lines(path, container)
    if not lines or not lines[0].startswith("##fileformat=VCF"):
        raise VcfError(f"{path.name} is not a VCF (no ##fileformat=VCF header line)")
    chrom_line = lines[-1]
    if not chrom_line.startswith("#CHROM"):
        raise VcfError(f"{path.name} is not a valid VCF (no #CHROM column line)")
    columns = chrom_line.lstrip("#").split("\t")
    if columns[:8] != ["CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]:
        raise VcfError(f"{path.name} has malformed VCF columns: {' '.join(columns[:8])}")
    samples = columns[9:] if len(columns) > 9 else []
    contigs: dict[str, int] = {}
    reference = None
    format_fields = []
    for line in lines[1:-1]:
        if match := CONTIG_LINE.match(line):
            contigs[match.group(1)] = int(match.group(2) or 0)
        elif line.startswith("##reference="):
            reference = line.split("=", 1)[1]
        elif line.startswith("##FORMAT=<ID="):
            format_fields.append(line[len("##FORMAT=<ID=") :].split(",", 1)[0])
    build, warnings = detect_genome_build(contigs, reference)
    names = list(contigs)
    if names:
        with_chr = sum(name.lower().startswith("chr") for name in names)
        naming = "chr" if with_chr > len(names) / 2 else "plain"
    else:
        naming = "unknown"
    is_gvcf = any(line.startswith(marker) for line in lines for marker in GVCF_MARKERS)
    return VcfHeader(
        path=path,
        container=container,
        samples=samples,
        contigs=contigs,
        reference=reference,
        genome_build=build,
        contig_naming=naming,
        is_gvcf=is_gvcf,
        format_fields=format_fields,
        header_lines=len(lines),
        warnings=warnings,
    )

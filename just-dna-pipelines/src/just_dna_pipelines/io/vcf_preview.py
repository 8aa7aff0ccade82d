"""A quick look at a VCF (header and first records): is it usable, which sample, is it a gVCF.

One function decides these for the upload check, the command line and normalization alike, so they agree.
A run asks three times about the same file (the command's check, the source step, normalization): the header
and the peek of the last few files are kept for the file's exact version (io/file_version.py), so the first
10,000 records are read once, and a file changed in between (another version, or other first or last 64 KB)
is read again. A large header (MAX_KEPT_NAMES, MAX_KEPT_CHARS) is not kept: it is read at each look.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.io.file_version import FileVersion, file_version_with_ends
from just_dna_pipelines.io.vcf_header import VcfHeader, read_vcf_header
from just_dna_pipelines.io.vcf_limits import ReadLimits, read_limits
from just_dna_pipelines.io.vcf_peek import RecordPeek, peek_records
from just_dna_pipelines.io.vcf_samples import choose_sample, default_sample

LIKELIHOOD_FIELDS = ("PL", "GL", "GP")
KEPT_LOOKS = 8  # files whose header and peek are kept (a worker sees many uploads; each look is small)
# A look is kept only while it is small. Keeping exists so one run's three looks at a normal genome read it
# once, and a genome from a real caller has a header of tens of KB: a few samples and at most the ~3,400
# contigs of GRCh38 with alts, decoys and HLA. Looks are kept before any check, so without these bounds a
# refused upload whose header lists millions of samples or contigs stayed in the web server (~450 MB each).
# A larger header (a cohort, a scaffold-level assembly) is still read, just read again at each look.
MAX_KEPT_NAMES = 10_000  # samples, contigs, INFO and FORMAT fields together
MAX_KEPT_CHARS = 1 << 20  # the characters of those names and of the ##reference line together


@dataclass
class _Look:
    """A file's header, and its peek once a preview got that far."""

    header: VcfHeader
    peek: RecordPeek | None = None


_looks: OrderedDict[tuple[tuple[FileVersion, str], ReadLimits], _Look] = OrderedDict()
_looks_lock = threading.Lock()


@dataclass(frozen=True)
class VcfPreview:
    """What the header and the first records tell, and the sample to read."""

    header: VcfHeader
    peek: RecordPeek
    sample_column: str  # the sample to read: the one asked for, else `default_sample`
    default_sample: str  # the first sample that is not a control and has calls
    is_gvcf: bool  # the header's gVCF markers, or reference blocks among the records
    warnings: list[str] = field(default_factory=list)


def _no_gt(header: VcfHeader, records: int) -> VcfError:
    """The refusal of a VCF whose records carry no genotype calls (`records` looked at)."""
    name = header.path.name
    if any(key in header.format_fields for key in LIKELIHOOD_FIELDS):
        return VcfError(
            f"{name} has genotype likelihoods but no GT (genotype calls); call genotypes first "
            "(e.g. bcftools call) and upload the result"
        )
    if "GT" in header.format_fields:  # declared, never used
        return VcfError(f"{name} declares GT (genotype) but none of its first {records:,} records has one")
    return VcfError(f"{name} has no GT (genotype) FORMAT field")


def preview_vcf(path: Path, sample_column: str | None = None, limits: ReadLimits | None = None) -> VcfPreview:
    """Read the header and peek at the first records; raise VcfError with one line when the file is unusable."""
    limits = limits or read_limits()
    look, header = _look(path, limits)
    choose_sample(header, sample_column)  # a sites-only VCF or an unknown sample name is refused first
    if look.peek is None:
        look.peek = peek_records(header, limits)
    called = look.peek.called
    peek = dataclasses.replace(look.peek, called=list(called) if called is not None else None)  # the caller's
    if peek.records == 0:
        raise VcfError(f"{path.name} has a header but no records")
    warnings = list(header.warnings)
    # Records without GT give nothing to match, declared or not (an undeclared one counts where it is first).
    if not peek.with_gt_key or ("GT" not in header.format_fields and not peek.with_gt):
        raise _no_gt(header, peek.records)
    if "GT" not in header.format_fields:
        warnings.append("GT is used by the records but not declared by a ##FORMAT line; read as genotypes")
    default = default_sample(header.samples, peek.called)
    return VcfPreview(
        header=header,
        peek=peek,
        sample_column=choose_sample(header, sample_column, default),
        default_sample=default,
        is_gvcf=header.is_gvcf or peek.ref_blocks > 0,
        warnings=warnings,
    )


def _small_enough_to_keep(header: VcfHeader) -> bool:
    """Whether a header is small enough to keep between looks (MAX_KEPT_NAMES, MAX_KEPT_CHARS)."""
    names: list[Collection[str]] = [header.samples, header.contigs, header.format_fields, header.info_fields]
    if sum(len(group) for group in names) > MAX_KEPT_NAMES:
        return False
    chars = sum(len(name) for group in names for name in group)
    return chars + len(header.reference or "") <= MAX_KEPT_CHARS


def _look(path: Path, limits: ReadLimits) -> tuple[_Look, VcfHeader]:
    """The kept look at this version of `path` (its header read now when there is none; kept only when
    small), and a copy of its header naming `path` as the caller spelled it."""
    try:
        key: tuple[tuple[FileVersion, str], ReadLimits] | None = (file_version_with_ends(path), limits)
    except OSError:
        key = None  # read_vcf_header raises the one-line error
    look = None
    if key is not None:
        with _looks_lock:
            look = _looks.get(key)
            if look is not None:
                _looks.move_to_end(key)
    if look is None:
        look = _Look(read_vcf_header(path, limits))
        if key is None or not _small_enough_to_keep(look.header):
            return look, look.header  # kept by no one: already the caller's own
        with _looks_lock:
            _looks[key] = look
            while len(_looks) > KEPT_LOOKS:
                _looks.popitem(last=False)
    kept = look.header
    header = dataclasses.replace(  # the caller's own: nothing it does reaches the kept one
        kept,
        path=path,
        samples=list(kept.samples),
        contigs=dict(kept.contigs),
        format_fields=list(kept.format_fields),
        info_fields=list(kept.info_fields),
        warnings=list(kept.warnings),
    )
    return look, header

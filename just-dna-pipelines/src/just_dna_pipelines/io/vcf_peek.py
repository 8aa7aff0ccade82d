"""A look at the first records of a VCF/BCF: GT use, gVCF reference blocks, rsIDs, calls per sample.

The header does not always tell these: GT may be used without a ##FORMAT line, and DeepVariant and Illumina
gVCFs carry no gVCF marker in their header; the records always show them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.io.vcf_header import VcfHeader
from just_dna_pipelines.io.vcf_limits import ReadLimits

PEEK_RECORDS = 10_000
PEEK_BYTES = 8 << 20
COUNTED_SAMPLES = 64  # calls are counted per sample only up to this many samples (a peek stays fast)
REF_BLOCK_ALTS = frozenset({"<NON_REF>", "<*>"})
END_KEY = re.compile(r"(?:^|;)END=\d+")
RSID = re.compile(r"(?:^|;)rs\d+(?:;|$)")
ALLELE_SPLIT = re.compile(r"[/|]")


@dataclass(frozen=True)
class RecordPeek:
    """What the first records show."""

    records: int  # data lines looked at
    with_gt: int  # records whose FORMAT starts with GT
    with_gt_key: int  # records whose FORMAT has GT anywhere (not first breaks the spec: read as no call)
    ref_blocks: int  # gVCF reference blocks: ALT <*> or <NON_REF>, or ALT "." with an END
    with_rsids: bool
    called: list[int] | None  # per sample: records giving it a full genotype; None past COUNTED_SAMPLES


def is_ref_block(alt: str, info: str) -> bool:
    """Whether a record is a gVCF reference block (kept in one place with the Polars expression's rule)."""
    return alt in REF_BLOCK_ALTS or (alt == "." and bool(END_KEY.search(info)))


def is_called(gt: str) -> bool:
    """Whether a GT gives every allele (VCF 4.4 may start it with a phasing mark: `/0|1`, `|0`)."""
    alleles = ALLELE_SPLIT.split(gt.lstrip("/|"))
    return 1 <= len(alleles) <= 2 and all(allele.isdigit() for allele in alleles)


def _record_lines(header: VcfHeader, limits: ReadLimits) -> Iterator[str]:
    """The first record lines as text, read within bounds."""
    if header.container == "bcf":
        from just_dna_pipelines.io.htslib_quiet import quiet_htslib
        from just_dna_pipelines.io.vcf_bcf import check_bcf_bounds

        check_bcf_bounds(header.path, limits, max_records=PEEK_RECORDS)
        import pysam

        try:
            with quiet_htslib(), pysam.VariantFile(str(header.path)) as bcf:
                for record in bcf:
                    yield str(record).rstrip("\n")
        except (OSError, ValueError):
            raise VcfError(f"{header.path.name} is not a readable BCF (damaged or truncated)") from None
        return
    from just_dna_pipelines.io.vcf_stream import bounded_lines

    skipped = 0  # empty lines and comments among the records count towards the look's budget too: a file of
    # nothing else was read to its end (minutes for a kilobyte of gzip)
    past_header = False
    for raw in bounded_lines(header.path, limits):
        if raw and not raw.startswith(b"#") and not raw.startswith(b"\xef\xbb\xbf#"):
            past_header = True
            yield raw.decode("utf-8", errors="replace")
        elif raw.startswith(b"#CHROM"):
            past_header = True
        elif past_header or not raw:
            skipped += len(raw) + 1
            if skipped > PEEK_BYTES:
                return


def peek_records(header: VcfHeader, limits: ReadLimits) -> RecordPeek:
    """Look at up to PEEK_RECORDS records (or PEEK_BYTES of them) from the start of the file."""
    counted = len(header.samples) if len(header.samples) <= COUNTED_SAMPLES else 0
    called = [0] * counted
    records = with_gt = with_gt_key = ref_blocks = 0
    rsids = False
    seen_bytes = 0
    for line in _record_lines(header, limits):
        fields = line.split("\t", 9 + counted)
        records += 1
        seen_bytes += len(line)
        if len(fields) >= 8:
            rsids = rsids or bool(RSID.search(fields[2]))
            ref_blocks += is_ref_block(fields[4], fields[7])
        if len(fields) >= 9 and "GT" in fields[8].split(":"):
            with_gt_key += 1
        if len(fields) >= 9 and (fields[8] == "GT" or fields[8].startswith("GT:")):
            with_gt += 1
            for index, value in enumerate(fields[9 : 9 + counted]):
                called[index] += is_called(value.split(":", 1)[0].rstrip())
        if records >= PEEK_RECORDS or seen_bytes >= PEEK_BYTES:
            break
    return RecordPeek(records, with_gt, with_gt_key, ref_blocks, rsids, called if counted else None)

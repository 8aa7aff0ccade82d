"""Use a VCF's tabix/CSI index: per-contig record counts, and reading only chosen sites."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import polars as pl

from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.io.genome_build import normalize_chrom
from just_dna_pipelines.io.vcf_header import VcfHeader

RSID = re.compile(r"(^|;)rs\d+(;|$)")
PEEK_RECORDS = 2000


def index_path(path: Path) -> Path | None:
    """The .tbi or .csi beside a bgzipped VCF or BCF, if present and not older than the file."""
    for suffix in (".tbi", ".csi"):
        candidate = path.with_name(path.name + suffix)
        if candidate.is_file() and candidate.stat().st_mtime >= path.stat().st_mtime:
            return candidate
    return None


def is_bgzf(path: Path) -> bool:
    """Whether a gzip file is BGZF (blocked, indexable): its first member carries the "BC" extra field."""
    with path.open("rb") as handle:
        head = handle.read(18)
    return len(head) == 18 and head[:2] == b"\x1f\x8b" and head[3] & 4 != 0 and head[12:14] == b"BC"


def indexed_view(path: Path, workdir: Path) -> Path | None:
    """A path to `path` with a usable index: the file itself when indexed, else a link in `workdir` indexed
    there (bgzipped, sorted files only; a few seconds for a whole genome). None when it cannot be indexed."""
    if index_path(path) is not None:
        return path
    if not is_bgzf(path):
        return None
    import pysam

    link = workdir / "input.vcf.gz"
    link.symlink_to(path.resolve())
    # htslib prints its own complaints about damaged files to stderr; the full read reports them as one line.
    previous = pysam.set_verbosity(0)
    try:
        pysam.tabix_index(str(link), preset="vcf", keep_original=True, force=True)
    except (OSError, ValueError):
        return None  # unsorted or damaged: the full read says what is wrong
    finally:
        pysam.set_verbosity(previous)
    return link


def indexed_contig_counts(path: Path) -> dict[str, int]:
    """Records per contig, read from the index (no decompression)."""
    import pysam.bcftools

    try:
        text = str(pysam.bcftools.index("-s", str(path)))
    except pysam.utils.SamtoolsError as exc:
        raise VcfError(
            f"the index of {path.name} is unreadable ({str(exc).strip().splitlines()[-1]})"
        ) from None
    counts: dict[str, int] = {}
    for line in text.strip().splitlines():
        name, _, count = line.split("\t")
        counts[name] = int(count)
    return counts


def first_records_have_rsids(header: VcfHeader) -> bool:
    """Whether the first records carry rsIDs in ID (a peek: rsid-only module sites then need a full read)."""
    if header.container == "bcf":
        import pysam

        with pysam.VariantFile(str(header.path)) as bcf:
            for number, record in enumerate(bcf):
                if number >= PEEK_RECORDS:
                    break
                if record.id and RSID.search(record.id):
                    return True
        return False
    with gzip.open(header.path, "rt") as handle:
        seen = 0
        for line in handle:
            if line.startswith("#"):
                continue
            fields = line.split("\t", 3)
            if len(fields) > 2 and RSID.search(fields[2]):
                return True
            seen += 1
            if seen >= PEEK_RECORDS:
                break
    return False


def write_regions_file(sites: pl.DataFrame, contigs: list[str], target: Path) -> int:
    """Write the sites (normalized chrom, 1-based start) as a bcftools regions file in the VCF's contig names."""
    names = {normalize_chrom(name): name for name in contigs}
    regions = (
        sites.select("chrom", "start")
        .drop_nulls()
        .unique()
        .filter(pl.col("chrom").is_in(list(names)))
        .with_columns(pl.col("chrom").replace_strict(names, return_dtype=pl.String))
        .sort("chrom", "start")
        .select("chrom", "start", pl.col("start").alias("end"))
    )
    regions.write_csv(target, separator="\t", include_header=False)
    return regions.height


def extract_sites(path: Path, regions_file: Path, out_vcf: Path) -> None:
    """Write the records overlapping the regions (header included) as VCF text, using the index."""
    import pysam.bcftools

    try:
        pysam.bcftools.view("-R", str(regions_file), "-Ov", "-o", str(out_vcf), str(path), catch_stdout=False)
    except pysam.utils.SamtoolsError as exc:
        raise VcfError(
            f"could not read sites from {path.name} ({str(exc).strip().splitlines()[-1]})"
        ) from None

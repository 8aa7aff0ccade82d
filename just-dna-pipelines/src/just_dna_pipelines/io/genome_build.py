"""Detect the genome build of a VCF from its contig lengths and reference line."""

from __future__ import annotations

import re

# Lengths of a few primary contigs in each build (chromosome names without "chr").
CONTIG_LENGTHS: dict[str, dict[str, int]] = {
    "GRCh38": {
        "1": 248_956_422, "2": 242_193_529, "3": 198_295_559, "7": 159_345_973, "11": 135_086_622,
        "19": 58_617_616, "20": 64_444_167, "21": 46_709_983, "22": 50_818_468, "X": 156_040_895,
    },
    "GRCh37": {
        "1": 249_250_621, "2": 243_199_373, "3": 198_022_430, "7": 159_138_663, "11": 135_006_516,
        "19": 59_128_983, "20": 63_025_520, "21": 48_129_895, "22": 51_304_566, "X": 155_270_560,
    },
    # hg18: old files (early DNA-test downloads, 1000 Genomes pilot VCFs). Told apart so the file is named for
    # what it is; nothing is matched by position on it (only rsIDs).
    "NCBI36": {
        "1": 247_249_719, "2": 242_951_149, "3": 199_501_827, "7": 158_821_424, "11": 134_452_384,
        "19": 63_811_651, "20": 62_435_964, "21": 46_944_323, "22": 49_691_432, "X": 154_913_754,
    },
}  # fmt: skip

REFERENCE_PATTERNS: dict[str, re.Pattern[str]] = {
    "GRCh38": re.compile(r"grch38|hg38|hs38|b38|GCA_000001405\.15", re.IGNORECASE),
    "GRCh37": re.compile(r"grch37|hg19|hs37|b37|human_g1k_v37|GCA_000001405\.1\b", re.IGNORECASE),
    "NCBI36": re.compile(r"ncbi36|ncbi_build_36|hg18|hs36|\bb36\b", re.IGNORECASE),
}


def normalize_chrom(name: str) -> str:
    """Contig name without the `chr` prefix; chrM/M become MT."""
    bare = name[3:] if name[:3].lower() == "chr" else name
    return "MT" if bare in {"M", "m"} else bare


def build_from_contigs(contig_lengths: dict[str, int]) -> str | None:
    """The build whose primary contig lengths the header matches, or None when none match."""
    votes = {build: 0 for build in CONTIG_LENGTHS}
    for raw_name, length in contig_lengths.items():
        name = normalize_chrom(raw_name)
        for build, lengths in CONTIG_LENGTHS.items():
            if lengths.get(name) == length:
                votes[build] += 1
    best = max(votes, key=lambda build: votes[build])
    others = [build for build in votes if build != best and votes[build] > 0]
    return best if votes[best] > 0 and not others else None


def build_from_reference_line(reference: str | None) -> str | None:
    """The build a `##reference=` value names, or None."""
    if not reference:
        return None
    hits = [build for build, pattern in REFERENCE_PATTERNS.items() if pattern.search(reference)]
    return hits[0] if len(hits) == 1 else None


def detect_genome_build(contig_lengths: dict[str, int], reference: str | None) -> tuple[str, list[str]]:
    """Return (build, warnings); build is "GRCh38", "GRCh37", "NCBI36" or "unknown".

    Contig lengths are the stronger evidence; a reference line that names the other build makes the
    build "unknown" with a warning rather than a guess.
    """
    by_contigs = build_from_contigs(contig_lengths)
    by_reference = build_from_reference_line(reference)
    if by_contigs and by_reference and by_contigs != by_reference:
        return "unknown", [
            f"the header contradicts itself: contig lengths say {by_contigs}, ##reference says {by_reference}"
        ]
    build = by_contigs or by_reference
    if build is None:
        return "unknown", ["genome build not detected from the header (no known contig lengths or reference)"]
    return build, []

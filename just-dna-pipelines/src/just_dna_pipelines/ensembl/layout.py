"""The layout of an Ensembl reference: one Parquet file per contig, `data/homo_sapiens-chr{contig}.parquet`.

Only five columns are relied on: `chrom`, `start` (1-based, GRCh38), `ref`, `alt` and `id` (the rsID).
Every other column (allele frequencies, clinical significance, variant class, ...) is carried through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from just_dna_pipelines.errors import EnsemblError
from just_dna_pipelines.io.genome_build import normalize_chrom

CONTIGS: tuple[str, ...] = (*(str(n) for n in range(1, 23)), "X", "Y", "MT")
DATA_DIR = "data"
KEY_COLUMNS = ("chrom", "start", "ref", "alt")
ID_COLUMN = "id"
GENOME_BUILD = "GRCh38"
FILE_PATTERN = re.compile(r"^homo_sapiens-chr([0-9]{1,2}|X|Y|MT)\.parquet$")


def contig_filename(contig: str) -> str:
    """The file name of one contig (`homo_sapiens-chr21.parquet`)."""
    return f"homo_sapiens-chr{contig}.parquet"


def contig_path_in_repo(contig: str) -> str:
    """Where one contig's file sits in the dataset (`data/homo_sapiens-chr21.parquet`)."""
    return f"{DATA_DIR}/{contig_filename(contig)}"


def contig_of_filename(name: str) -> str | None:
    """The contig a reference file name holds, or None when the name is not a contig file."""
    found = FILE_PATTERN.match(name.rsplit("/", 1)[-1])
    return found.group(1) if found else None


def canonical_contig(name: str) -> str | None:
    """`chr21`, `21`, `chrM`, `M` -> the reference's contig name (`21`, `MT`); None for contigs it lacks."""
    bare = normalize_chrom(name.strip())
    bare = bare.upper() if bare.lower() in {"x", "y", "mt"} else bare
    return bare if bare in CONTIGS else None


def parse_contigs(names: Iterable[str]) -> list[str]:
    """Canonical contigs in reference order, or EnsemblError naming the first unknown one."""
    wanted: set[str] = set()
    for name in names:
        if not name.strip():
            continue
        contig = canonical_contig(name)
        if contig is None:
            raise EnsemblError(f"unknown contig {name.strip()!r}; the reference has {', '.join(CONTIGS)}")
        wanted.add(contig)
    return [c for c in CONTIGS if c in wanted]


def reference_contigs(names: Iterable[str]) -> list[str]:
    """The contigs among `names` that the reference covers (alt contigs and decoys dropped), in order."""
    wanted = {c for n in names if (c := canonical_contig(n)) is not None}
    return [c for c in CONTIGS if c in wanted]

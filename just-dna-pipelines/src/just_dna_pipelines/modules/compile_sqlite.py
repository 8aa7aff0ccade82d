"""Compile Gen-I SQLite module folders into the Parquet module layout (`OUT/{module}/...`).

`sqlite_dir` holds one folder per module (its .sqlite file and `gen2_curation/*.csv`), as in
`shared/fixtures/modules`. LongevityMap's `longevitymap_annotator.sqlite` also supplies GRCh38
positions (`snps`: rsid -> chrom, pos, ref, alt) to every module whose rsids it covers. The rules
that turn source rows into genotypes are in `modules.genotypes` and the per-module compilers
(`modules.compilers.*`), and summarised in `modules/README.md`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from just_dna_pipelines.errors import ModuleSourceError
from just_dna_pipelines.modules.catalog import GENOME_BUILD, defaults_for
from just_dna_pipelines.modules.compilers import COMPILERS, CompiledModule
from just_dna_pipelines.modules.compilers.common import ANNOTATOR_DB, load_loci
from just_dna_pipelines.modules.writer import sha256_file, write_module

COMPILER_VERSION = "1.0"


@dataclass(frozen=True)
class BuiltModule:
    """What `compile_sqlite_modules` wrote for one module."""

    name: str
    path: Path
    weights_rows: int
    annotations_rows: int
    studies_rows: int
    positioned_weights_rows: int
    dropped: dict[str, int]
    notes: list[str]


def compile_sqlite_modules(
    sqlite_dir: Path, out_dir: Path, modules: Sequence[str] | None = None
) -> list[BuiltModule]:
    """Compile the module folders of `sqlite_dir` (default: every one present that has a compiler) into `out_dir`."""
    sqlite_dir = Path(sqlite_dir)
    if not sqlite_dir.is_dir():
        raise ModuleSourceError(f"SQLite folder {sqlite_dir} does not exist")
    wanted = list(modules) if modules else [m for m in COMPILERS if (sqlite_dir / m).is_dir()]
    unknown = [m for m in wanted if m not in COMPILERS]
    if unknown:
        raise ModuleSourceError(f"no compiler for module {unknown[0]!r}; known: {', '.join(COMPILERS)}")
    missing = [m for m in wanted if not (sqlite_dir / m).is_dir()]
    if missing or not wanted:
        raise ModuleSourceError(
            f"no module folders found in {sqlite_dir} (expected one of: {', '.join(COMPILERS)})"
            if not wanted
            else f"module folder {sqlite_dir / missing[0]} does not exist"
        )
    loci = load_loci(sqlite_dir)
    # Compile everything before writing anything, so a bad input leaves the output untouched.
    compiled = [COMPILERS[name](sqlite_dir / name, loci) for name in wanted]
    for module in compiled:
        if loci and module.weights["start"].is_not_null().any():
            module.sources.append(sqlite_dir / ANNOTATOR_DB)
    return [_write(sqlite_dir, Path(out_dir), module) for module in compiled]


def _write(sqlite_dir: Path, out_dir: Path, module: CompiledModule) -> BuiltModule:
    """Write one compiled module with its module.json."""
    built_from = [
        {"path": str(p.relative_to(sqlite_dir)), "sha256": sha256_file(p)}
        for p in dict.fromkeys(module.sources)
    ]
    digest = hashlib.sha256("".join(b["sha256"] for b in built_from).encode()).hexdigest()[:8]
    defaults = defaults_for(module.name)
    meta = {
        "name": module.name,
        "title": defaults.title,
        "description": defaults.description,
        "version": f"{COMPILER_VERSION}+sqlite.{digest}",
        "genome_build": GENOME_BUILD,
        "demo": False,
        "built_from": built_from,
        "dropped": dict(module.dropped),
    }
    path = write_module(
        out_dir,
        module.name,
        {"weights": module.weights, "annotations": module.annotations, "studies": module.studies},
        meta,
    )
    return BuiltModule(
        name=module.name,
        path=path,
        weights_rows=module.weights.height,
        annotations_rows=module.annotations.height,
        studies_rows=module.studies.height,
        positioned_weights_rows=int(module.weights["start"].is_not_null().sum()),
        dropped=dict(module.dropped),
        notes=list(module.notes),
    )

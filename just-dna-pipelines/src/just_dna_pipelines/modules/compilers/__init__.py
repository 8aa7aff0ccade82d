"""One compiler per Gen-I SQLite module layout; each returns a `CompiledModule`."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from just_dna_pipelines.modules.compilers.common import CompiledModule
from just_dna_pipelines.modules.compilers.coronary import compile_coronary
from just_dna_pipelines.modules.compilers.genotype_tables import compile_genotype_tables
from just_dna_pipelines.modules.compilers.longevitymap import compile_longevitymap
from just_dna_pipelines.modules.compilers.superhuman import compile_superhuman
from just_dna_pipelines.modules.genotypes import Locus

Compiler = Callable[[Path, dict[str, Locus]], CompiledModule]

COMPILERS: dict[str, Compiler] = {
    "longevitymap": compile_longevitymap,
    "lipidmetabolism": partial(compile_genotype_tables, "lipidmetabolism"),
    "vo2max": partial(compile_genotype_tables, "vo2max"),
    "superhuman": compile_superhuman,
    "coronary": compile_coronary,
    "thrombophilia": partial(compile_genotype_tables, "thrombophilia"),
}

__all__ = ["COMPILERS", "CompiledModule"]

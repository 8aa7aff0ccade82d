"""A module's version and the hash of its weights: what a sample's results were made from."""

from __future__ import annotations

import hashlib
from pathlib import Path

from just_dna_pipelines.modules.layouts import read_meta
from just_dna_pipelines.modules.sources import ResolvedModules, module_dirs
from just_dna_pipelines.modules.writer import sha256_file

WEIGHTS_FILE = "weights.parquet"


def module_version(folder: Path) -> str:
    """The version a module declares (module.json, else the hub's manifest.json), or "unversioned".

    Read as the catalog reads them (bounded, any damage ignored): a manifest nested 100,000 deep raised
    RecursionError here and failed the run after every module had been matched.
    """
    version = read_meta(folder).get("version")
    return str(version) if version else "unversioned"


def weights_sha256(folder: Path) -> str | None:
    """SHA-256 of the module's weights table (None when it has none)."""
    path = folder / WEIGHTS_FILE
    return sha256_file(path) if path.is_file() else None


def module_data_version(folder: Path) -> str:
    """`{version}+{first 12 hex of the weights hash}`: changes whenever the module's scoring could change."""
    digest = weights_sha256(folder)
    return f"{module_version(folder)}+{digest[:12] if digest else 'noweights'}"


def source_revision(resolved: ResolvedModules) -> str:
    """The revision of a whole module source: the hub's commit, else a hash of every module's data version."""
    if resolved.kind == "hf" and resolved.revision:
        return resolved.revision
    digest = hashlib.sha256()
    for folder in module_dirs(resolved.root):
        digest.update(f"{folder.name}\t{module_data_version(folder)}\n".encode())
    return f"{resolved.kind}-{digest.hexdigest()[:16]}"

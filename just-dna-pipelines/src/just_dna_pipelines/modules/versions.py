"""A module's version and the hash of its weights: what a sample's results were made from."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from just_dna_pipelines.modules.sources import ResolvedModules, module_dirs
from just_dna_pipelines.modules.writer import MODULE_JSON, sha256_file

HUB_MANIFEST = "manifest.json"  # the hub's newer layout describes each module in its own manifest
WEIGHTS_FILE = "weights.parquet"


def module_version(folder: Path) -> str:
    """The version a module declares (module.json, else the hub's manifest.json), or "unversioned"."""
    for name in (MODULE_JSON, HUB_MANIFEST):
        path = folder / name
        if path.is_file():
            try:
                meta = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(meta, dict) and meta.get("version"):
                return str(meta["version"])
    return "unversioned"


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

"""Which modules a source offers, with their display facts, and loading one module's tables."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from just_dna_pipelines.errors import ModuleSourceError
from just_dna_pipelines.modules.catalog import defaults_for
from just_dna_pipelines.modules.schema import ANNOTATIONS_SCHEMA, STUDIES_SCHEMA, WEIGHTS_SCHEMA
from just_dna_pipelines.modules.sources import ResolvedModules, module_dirs, resolve_modules_source
from just_dna_pipelines.modules.writer import MODULE_JSON


@dataclass(frozen=True)
class ModuleInfo:
    """One annotation module offered to the user."""

    name: str
    title: str
    description: str
    version: str
    source: str
    weights_rows: int
    annotations_rows: int
    studies_rows: int
    demo: bool = False


def _read_meta(folder: Path) -> dict[str, Any]:
    """module.json of a module folder, or {} when absent (as on Hugging Face)."""
    path = folder / MODULE_JSON
    if not path.is_file():
        return {}
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModuleSourceError(f"unreadable {path}: {exc}") from exc
    return meta if isinstance(meta, dict) else {}


def _row_count(path: Path) -> int:
    """Rows of a Parquet file from its footer (0 when the table is absent)."""
    if not path.is_file():
        return 0
    try:
        return int(pl.scan_parquet(path).select(pl.len()).collect().item())
    except Exception as exc:  # a corrupt file is a user-facing source problem
        raise ModuleSourceError(f"unreadable {path}: {exc}") from exc


def module_info(folder: Path, resolved: ResolvedModules) -> ModuleInfo:
    """Display facts of one module folder."""
    meta = _read_meta(folder)
    defaults = defaults_for(folder.name)
    return ModuleInfo(
        name=folder.name,
        title=str(meta.get("title") or defaults.title),
        description=str(meta.get("description") or defaults.description),
        version=str(meta.get("version") or (resolved.revision or "")[:12] or "unversioned"),
        source=resolved.label,
        weights_rows=_row_count(folder / "weights.parquet"),
        annotations_rows=_row_count(folder / "annotations.parquet"),
        studies_rows=_row_count(folder / "studies.parquet"),
        demo=bool(meta.get("demo", resolved.kind == "demo")),
    )


def list_modules(source: str | None = None) -> list[ModuleInfo]:
    """The modules of a source (default: the configured one), sorted by name."""
    resolved = resolve_modules_source(source)
    return [module_info(folder, resolved) for folder in module_dirs(resolved.root)]


def graph_module_names(source: str | None = None) -> list[str]:
    """The modules the asset graph shows, read without the network: those the source holds on this machine,
    or, before a hub source is first downloaded, the modules the hub publishes."""
    from just_dna_pipelines.modules.catalog import HUB_MODULES
    from just_dna_pipelines.modules.sources import cached_modules

    resolved = cached_modules(source)
    if resolved is None:
        return sorted(HUB_MODULES)
    return [folder.name for folder in module_dirs(resolved.root)]


def choose_modules(available: list[str], wanted: list[str] | None) -> list[str]:
    """The modules to run: `wanted` (all of `available` when None), or ModuleSourceError naming an unknown one."""
    chosen = list(wanted) if wanted else list(available)
    unknown = [name for name in chosen if name not in available]
    if unknown:
        raise ModuleSourceError(f"unknown module {unknown[0]!r}; available: {', '.join(available) or 'none'}")
    if not chosen:
        raise ModuleSourceError("no modules to run: the module source holds none")
    return chosen


def load_module_tables(root: Path, name: str) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(weights, annotations, studies) of module `name` under `root`, in the contract dtypes (see `to_contract`)."""
    choose_modules([p.name for p in module_dirs(root)], [name])
    folder = root / name
    frames = []
    for table, schema in (
        ("weights", WEIGHTS_SCHEMA),
        ("annotations", ANNOTATIONS_SCHEMA),
        ("studies", STUDIES_SCHEMA),
    ):
        path = folder / f"{table}.parquet"
        try:
            frame = pl.read_parquet(path) if path.is_file() else pl.DataFrame(schema=schema)
            frames.append(to_contract(frame, schema))
        except Exception as exc:
            raise ModuleSourceError(f"unreadable {path}: {exc}") from exc
    return frames[0], frames[1], frames[2]


def to_contract(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Give a table (ours or a Hugging Face one) every contract column with its dtype; extras kept.

    Missing contract columns become nulls; `chrom` loses a `chr` prefix; other columns are cast.
    """
    columns = []
    for name, dtype in schema.items():
        if name not in frame.columns:
            columns.append(pl.lit(None, dtype=dtype).alias(name))
        elif name == "chrom":
            columns.append(pl.col(name).cast(pl.String).str.strip_prefix("chr").alias(name))
        else:
            columns.append(pl.col(name).cast(dtype))
    return frame.select(columns + [pl.col(c) for c in frame.columns if c not in schema])

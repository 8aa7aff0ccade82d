"""Which modules a source offers, with their display facts, and loading one module's tables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from just_dna_pipelines.errors import ModuleSourceError
from just_dna_pipelines.modules.catalog import defaults_for
from just_dna_pipelines.modules.layouts import inspect_module, module_folders, read_weights, table_footer
from just_dna_pipelines.modules.schema import ANNOTATIONS_SCHEMA, STUDIES_SCHEMA, WEIGHTS_SCHEMA
from just_dna_pipelines.modules.sources import ResolvedModules, module_dirs, resolve_modules_source


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
    usable: bool = True  # False: listed for information, cannot be run (see notes)
    notes: tuple[str, ...] = ()  # what this version cannot use of the module, in words


_infos: dict[tuple[Path, ResolvedModules], tuple[tuple[tuple[str, int, int], ...], ModuleInfo]] = {}


def _row_count(path: Path) -> int:
    """Rows of a Parquet file from its footer (0 when the table is absent or unreadable: the notes say so)."""
    footer = table_footer(path) if path.is_file() else None
    return footer[1] if isinstance(footer, tuple) else 0


def module_info(folder: Path, resolved: ResolvedModules) -> ModuleInfo:
    """Display facts of one module folder, with what cannot be used of it (kept while its files are unchanged:
    the sample page lists the modules on every load, and reading the table footers took 6 ms a module)."""
    signature = _folder_signature(folder)
    cached = _infos.get((folder, resolved))
    if cached is not None and cached[0] == signature:
        return cached[1]
    info = _read_module_info(folder, resolved)
    _infos[(folder, resolved)] = (signature, info)
    return info


def _folder_signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Name, size and modification time (ns) of every file in a module folder."""
    try:
        return tuple(
            sorted((e.name, s.st_size, s.st_mtime_ns) for e in os.scandir(folder) for s in [e.stat()])
        )
    except OSError:
        return ()  # gone or changing: its facts are read afresh (and kept under this empty signature)


def _read_module_info(folder: Path, resolved: ResolvedModules) -> ModuleInfo:
    """Display facts of one module folder, read from its files."""
    layout = inspect_module(folder)
    meta = layout.meta
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
        usable=layout.usable,
        notes=(*layout.problems, *layout.notes),
    )


def list_modules(source: str | None = None) -> list[ModuleInfo]:
    """The modules of a source (default: the configured one), sorted by name."""
    resolved = resolve_modules_source(source)
    return [module_info(folder, resolved) for folder in module_folders(resolved.root)]


def graph_module_names(source: str | None = None) -> list[str]:
    """The modules the asset graph shows, read without the network: those the source holds on this machine,
    or, before a hub source is first downloaded, the modules the hub publishes."""
    from just_dna_pipelines.modules.catalog import HUB_MODULES
    from just_dna_pipelines.modules.sources import cached_modules

    resolved = cached_modules(source)
    if resolved is None:
        return sorted(HUB_MODULES)
    return [folder.name for folder in module_dirs(resolved.root)]


def runnable_modules(root: Path) -> tuple[list[str], dict[str, str]]:
    """(modules this version can run, {module it cannot run: why}) of a resolved source root."""
    runnable, refused = [], {}
    for folder in module_folders(root):
        layout = inspect_module(folder)
        if layout.usable:
            runnable.append(folder.name)
        else:
            refused[folder.name] = "; ".join(layout.problems)
    return runnable, refused


def choose_modules(
    available: list[str], wanted: list[str] | None, refused: dict[str, str] | None = None
) -> list[str]:
    """The modules to run: `wanted` (all of `available` when None), or ModuleSourceError naming an unknown one.

    `refused` maps modules the source has but this version cannot run to the reason, for the message.
    """
    chosen = list(wanted) if wanted else list(available)
    blocked = [name for name in chosen if name not in available and name in (refused or {})]
    if blocked:
        raise ModuleSourceError(f"module {blocked[0]!r} cannot be run: {(refused or {})[blocked[0]]}")
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
            if not path.is_file():
                frame = pl.DataFrame(schema=schema)
            else:
                frame = read_weights(path) if table == "weights" else pl.read_parquet(path, glob=False)
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

"""Write a module folder whole or not at all: build in a hidden temp folder, then rename into place."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import polars as pl

from just_dna_pipelines.io.atomic import atomic_dir
from just_dna_pipelines.modules.schema import ANNOTATIONS_SCHEMA, STUDIES_SCHEMA, WEIGHTS_SCHEMA

TABLES = ("weights", "annotations", "studies")
SCHEMAS = {"weights": WEIGHTS_SCHEMA, "annotations": ANNOTATIONS_SCHEMA, "studies": STUDIES_SCHEMA}
MODULE_JSON = "module.json"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Cast the contract columns to their dtypes (extra columns kept after them)."""
    missing = [name for name in schema if name not in frame.columns]
    if missing:
        raise ValueError(f"table lacks contract columns: {', '.join(missing)}")
    extra = [c for c in frame.columns if c not in schema]
    return frame.select([pl.col(n).cast(t) for n, t in schema.items()] + [pl.col(c) for c in extra])


def write_module(out_dir: Path, name: str, tables: dict[str, pl.DataFrame], meta: dict[str, Any]) -> Path:
    """Write `out_dir/name/{weights,annotations,studies}.parquet` + module.json atomically; return the folder."""
    final = out_dir / name
    with atomic_dir(final) as temp:  # a reader finds the old folder or the new one, whole
        for table in TABLES:
            conform(tables[table], SCHEMAS[table]).write_parquet(temp / f"{table}.parquet")
        meta = {**meta, "rows": {t: tables[t].height for t in TABLES}}
        (temp / MODULE_JSON).write_text(
            json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    return final

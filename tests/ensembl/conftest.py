"""Helpers for the Ensembl tests: tiny reference files in the dataset's layout, and a loopback hub serving them."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from pathlib import Path

import huggingface_hub.constants
import polars as pl
import pytest

from just_dna_pipelines.settings import get_settings

REPO = "just-dna-seq/ensembl_variations"


def contig_bytes(contig: str, rows: int, *, seed: int = 0, padding: int = 0) -> bytes:
    """A reference contig file as Parquet bytes; `padding` random bytes per row make it large and incompressible."""
    rng = random.Random(seed)
    columns: dict[str, list] = {
        "chrom": [contig] * rows,
        "start": [100 * (i + 1) for i in range(rows)],
        "ref": ["A"] * rows,
        "alt": ["G"] * rows,
        "id": [f"rs{seed}{i}" for i in range(rows)],
        "AF": [rng.random() for _ in range(rows)],
    }
    if padding:
        columns["padding"] = [rng.randbytes(padding) for _ in range(rows)]
    frame = pl.DataFrame(columns)
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="uncompressed")
    return buffer.getvalue()


def reference_files(contigs: dict[str, int], seed: int = 0) -> dict[str, bytes]:
    """`data/homo_sapiens-chr{contig}.parquet` files with the given row counts."""
    return {
        f"data/homo_sapiens-chr{contig}.parquet": contig_bytes(contig, rows, seed=seed)
        for contig, rows in contigs.items()
    }


@pytest.fixture
def ensembl_hub(pipeline_env, monkeypatch: pytest.MonkeyPatch, fake_hub_factory) -> Callable:
    """Start a loopback hub for the reference dataset and point HF_ENDPOINT at it (call with the files)."""
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("JUST_DNA_PIPELINES_ENSEMBL_SOURCE", raising=False)

    def start(files: dict[str, bytes]):
        hub = fake_hub_factory(REPO, files)
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        get_settings.cache_clear()
        return hub

    return start


@pytest.fixture
def cache_root(pipeline_env) -> Path:
    """The reference dataset's cache folder."""
    return pipeline_env.cache_dir / "ensembl" / REPO.replace("/", "--")


@pytest.fixture
def make_contig() -> Callable[..., bytes]:
    """`contig_bytes` for tests (conftest modules are not importable under --import-mode=importlib)."""
    return contig_bytes


@pytest.fixture
def make_reference() -> Callable[..., dict[str, bytes]]:
    """`reference_files` for tests."""
    return reference_files

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


def _export_rows(vcf: Path) -> pl.DataFrame:
    """The real Ensembl 105 export (sites with rsIDs) as reference rows: INFO keys become columns."""
    raw = pl.read_csv(vcf, separator="\t", comment_prefix="##", infer_schema=False, quote_char=None)
    rows = []
    for chrom, pos, rsid, ref, alt, info in raw.select(
        "#CHROM", "POS", "ID", "REF", "ALT", "INFO"
    ).iter_rows():
        row: dict[str, object] = {"chrom": chrom, "start": int(pos), "ref": ref, "alt": alt, "id": rsid}
        for item in info.split(";"):
            key, _, value = item.partition("=")
            if key:
                row[key] = value if value else True
        row["alts"] = alt.split(",")
        rows.append(row)
    frame = pl.DataFrame(rows, infer_schema_length=None)
    flags = [c for c, t in frame.schema.items() if t == pl.Boolean]
    return frame.with_columns(
        pl.col(flags).fill_null(False), pl.col("MAF").cast(pl.Float64), pl.col("MAC").cast(pl.Int64)
    )


def _snps_rows(sqlite: Path) -> pl.DataFrame:
    """LongevityMap's GRCh38 rsID positions (one row per ALT), `chr`-prefixed as in the database."""
    import sqlite3

    with sqlite3.connect(sqlite) as con:
        rows = con.execute("SELECT chrom, pos, ref, alt, rsid FROM snps").fetchall()
    return pl.DataFrame(rows, schema=["chrom", "start", "ref", "alt", "id"], orient="row")


def _background_rows(calls: pl.DataFrame) -> pl.DataFrame:
    """Synthetic rows at the sample's own chr21 sites: every 5th allele (id `bg_*`, not an rsID) and, every
    7th, a different ALT that must not match."""
    alleles = calls.filter(pl.col("alts").list.len() > 0).select(
        "chrom", "start", "ref", pl.col("alts").list.first().alias("alt")
    )
    same = alleles.gather_every(5).with_columns(pl.format("bg_{}", "start").alias("id"))
    other = (
        alleles.gather_every(7)
        .with_columns(pl.when(pl.col("alt") == "T").then(pl.lit("C")).otherwise(pl.lit("T")).alias("alt"))
        .with_columns(pl.format("bg_other_{}", "start").alias("id"))
    )
    return pl.concat([same, other])


@pytest.fixture(scope="session")
def na12878_calls(genomes: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """PG_NA12878_hg38-chr21 (GRCh38, no rsIDs) normalized in full, once per session."""
    from just_dna_pipelines.io.vcf_normalize import normalize_vcf

    out = tmp_path_factory.mktemp("na12878") / "variants.parquet"
    normalize_vcf(genomes / "PG_NA12878_hg38-chr21.vcf.gz", out)
    return out


@pytest.fixture(scope="session")
def real_reference(genomes: Path, tmp_path_factory: pytest.TempPathFactory, na12878_calls: Path) -> Path:
    """An Ensembl-layout reference folder built from real data: LongevityMap's GRCh38 rsID positions,
    the Ensembl 105 longevity export (with its INFO columns, multi-allelic ALTs and an `alts` list) and
    background rows; one `data/homo_sapiens-chr{contig}.parquet` per contig."""
    snps = _snps_rows(genomes.parent / "modules" / "longevitymap" / "longevitymap_annotator.sqlite")
    rows = pl.concat(
        [
            _export_rows(genomes / "longevity_snps_1000genom.vcf"),
            snps,
            _background_rows(pl.read_parquet(na12878_calls)),
        ],
        how="diagonal_relaxed",
    ).with_columns(pl.col("chrom").str.strip_prefix("chr").replace("M", "MT"))
    folder = tmp_path_factory.mktemp("ensembl_reference")
    (folder / "data").mkdir()
    for (contig,), part in rows.partition_by("chrom", as_dict=True).items():
        # `chr`-prefixed names inside the files: the engines must not depend on either spelling.
        part = part.with_columns(pl.lit(f"chr{contig}").alias("chrom")).sort("start")
        part.write_parquet(folder / "data" / f"homo_sapiens-chr{contig}.parquet")
    return folder

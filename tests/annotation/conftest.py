"""Tiny inline VCFs and modules for matcher tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from just_dna_pipelines.io.vcf_normalize import normalize_vcf

HEADER = """##fileformat=VCFv4.2
##reference=GRCh38
##contig=<ID=chr1,length=248956422>
##contig=<ID=chrX,length=156040895>
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1
"""


def write_vcf(path: Path, records: list[str], header: str = HEADER) -> Path:
    """Write a VCF from tab-joined record lines (fields separated by spaces for readability)."""
    path.write_text(header + "".join("\t".join(r.split()) + "\n" for r in records))
    return path


def write_module(root: Path, name: str, rows: list[dict]) -> Path:
    """Write a module folder with a weights.parquet from row dicts."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    defaults = {
        "chrom": None,
        "start": None,
        "ref": None,
        "state": None,
        "priority": None,
        "conclusion": "",
        "gene": None,
        "category": None,
    }
    frame = pl.DataFrame(
        [defaults | row for row in rows],
        schema_overrides={
            "start": pl.Int64,
            "chrom": pl.String,
            "ref": pl.String,
            "priority": pl.Float64,
            "gene": pl.String,
            "category": pl.String,
            "state": pl.String,
        },
    )
    frame.write_parquet(folder / "weights.parquet")
    return root


@pytest.fixture
def normalize(tmp_path: Path):
    """Normalize inline VCF records (call it); `.write_module` writes an inline module."""

    class Normalizer:
        write_module = staticmethod(write_module)

        def __call__(self, records: list[str], header: str = HEADER, **kwargs):
            vcf = write_vcf(tmp_path / "in.vcf", records, header)
            return normalize_vcf(vcf, tmp_path / "calls.parquet", **kwargs)

    return Normalizer()


@pytest.fixture
def with_chain(monkeypatch: pytest.MonkeyPatch, liftover_chain: Path) -> Iterator[Path]:
    """Settings that point at the real hg38ToHg19 chain (and never download one)."""
    from just_dna_pipelines.settings import get_settings

    monkeypatch.setenv("JUST_DNA_PIPELINES_LIFTOVER_CHAIN", str(liftover_chain))
    monkeypatch.setenv("JUST_DNA_PIPELINES_LIFTOVER_CHAIN_URL", "")
    get_settings.cache_clear()
    yield liftover_chain
    get_settings.cache_clear()


@pytest.fixture
def without_chain(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings with no chain and downloading off: a machine offline without a chain."""
    from just_dna_pipelines.settings import get_settings

    monkeypatch.delenv("JUST_DNA_PIPELINES_LIFTOVER_CHAIN", raising=False)
    monkeypatch.setenv("JUST_DNA_PIPELINES_LIFTOVER_CHAIN_URL", "")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def annotate_input(
    out: Path,
    genome: Path,
    modules_root: Path,
    *,
    engine: str = "polars",
    confident_regions: Path | None = None,
    read_sites: bool = False,
    modules: list[str] | None = None,
):
    """Normalize any input as the pipeline does, annotate it, and return (facts, summaries, matches by module)."""
    from just_dna_pipelines.annotation.pipeline import annotate_sample, context_from_facts
    from just_dna_pipelines.annotation.sample_table import normalize_sample
    from just_dna_pipelines.annotation.sites import module_site_table
    from just_dna_pipelines.modules.sources import module_dirs

    out.mkdir(parents=True, exist_ok=True)
    names = modules or ["longevitymap", "lipidmetabolism", "vo2max", "superhuman", "coronary"]
    table = normalize_sample(
        genome, out / "calls.parquet", module_site_table(module_dirs(modules_root)), read_sites=read_sites
    )
    sample = context_from_facts(table.path, table.facts, confident_regions)
    summaries = annotate_sample(sample, modules_root, names, out, engine=engine)
    matches = {
        name: {
            (r["rsid"], "/".join(r["genotype"]), r["weight"])
            for r in pl.read_parquet(out / f"{name}_weights.parquet").iter_rows(named=True)
        }
        for name in names
    }
    return table.facts, summaries, matches

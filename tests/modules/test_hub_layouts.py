"""Modules from the hub as it is now, served by a loopback hub: the old and newer table layouts, manifests,
modules without a weights table and damaged ones. What can be used is used; the rest is said, never a crash."""

from __future__ import annotations

import io
import json
from pathlib import Path

import huggingface_hub.constants
import polars as pl
import pytest

from just_dna_pipelines import service
from just_dna_pipelines.annotation.pipeline import SampleContext, annotate_sample
from just_dna_pipelines.cli import main
from just_dna_pipelines.errors import ModuleSourceError
from just_dna_pipelines.io.vcf_normalize import normalize_vcf
from just_dna_pipelines.modules.registry import graph_module_names, load_module_tables, runnable_modules
from just_dna_pipelines.modules.sources import resolve_modules_source
from just_dna_pipelines.settings import get_settings

SOURCE = "hf://just-dna-seq/annotators"
# the hub's modules this version can run (pharmgkb, cancer and pathogenic are said why not)
USABLE = ["cardio", "coronary", "lipidmetabolism", "longevitymap", "superhuman", "thrombophilia", "vo2max"]
EXTRA_COLUMNS = [
    "source_db", "curation_status", "evidence_level", "pmids", "populations", "p_value", "odds_ratio",
    "beta", "effect_allele", "other_allele", "effect_allele_frequency", "study_count", "clinvar_significance",
    "gnomad_af", "consequence", "transcript", "hgvs_c", "hgvs_p", "strand", "assembly", "last_reviewed",
    "reviewer", "notes", "tags", "url",
]  # fmt: skip


def parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def newer_layout(weights: pl.DataFrame, genotype_as_text: bool = False) -> pl.DataFrame:
    """The hub's newer weights layout: `alt` text, unsigned `start`, ~39 columns, optionally text genotypes."""
    frame = weights.with_columns(
        pl.col("start").cast(pl.UInt32),
        pl.col("alts").list.join(",").alias("alt"),
        *(pl.lit(f"{name} value").alias(name) for name in EXTRA_COLUMNS),
    ).drop("alts")
    if genotype_as_text:
        frame = frame.with_columns(pl.col("genotype").list.join("/"))
    return frame


def manifest(name: str, version: str, tables: list[str]) -> bytes:
    body = {
        "name": name,
        "version": version,
        "title": f"{name.title()} (hub)",
        "format": "0.6",
        "tables": tables,
    }
    return json.dumps(body).encode()


@pytest.fixture
def hub_modules(real_modules, isolated_settings: Path, fake_hub_factory, monkeypatch: pytest.MonkeyPatch):
    """A loopback hub holding the dataset's ten modules in the layouts it has had, and the settings pointing at it."""
    out, _ = real_modules
    tables = ("weights", "annotations", "studies")
    files: dict[str, bytes] = {}
    for table in tables:  # coronary: the old layout, as the hub published it in 0.5 (no manifest)
        files[f"data/coronary/{table}.parquet"] = (out / "coronary" / f"{table}.parquet").read_bytes()
    longevity = pl.read_parquet(out / "longevitymap" / "weights.parquet")
    files["data/longevitymap/weights.parquet"] = parquet(newer_layout(longevity))
    assert len(newer_layout(longevity).columns) >= 39
    for table in ("annotations", "studies"):
        frame = pl.read_parquet(out / "longevitymap" / f"{table}.parquet").with_columns(
            pl.lit("x").alias("extra")
        )
        files[f"data/longevitymap/{table}.parquet"] = parquet(frame)
    files["data/longevitymap/manifest.json"] = manifest("longevitymap", "0.6.0", list(tables))
    for name in ("vo2max",):  # the old layout, no manifest
        for table in tables:
            files[f"data/{name}/{table}.parquet"] = (out / name / f"{table}.parquet").read_bytes()
    for name, source in (
        ("lipidmetabolism", "lipidmetabolism"),
        ("superhuman", "superhuman"),
        ("cardio", "coronary"),
    ):
        # the newer layout with a manifest; cardio (not among the offline fixtures) carries coronary's tables
        newer = newer_layout(pl.read_parquet(out / source / "weights.parquet"))
        files[f"data/{name}/weights.parquet"] = parquet(newer)
        for table in ("annotations", "studies"):
            files[f"data/{name}/{table}.parquet"] = (out / source / f"{table}.parquet").read_bytes()
        files[f"data/{name}/manifest.json"] = manifest(name, "0.6.0", list(tables))
    thrombo = pl.read_parquet(out / "thrombophilia" / "weights.parquet")
    files["data/thrombophilia/weights.parquet"] = parquet(newer_layout(thrombo, genotype_as_text=True))
    files["data/thrombophilia/manifest.json"] = manifest("thrombophilia", "0.6.1", ["weights"])
    pgx = pl.DataFrame({"rsid": ["rs4244285"], "gene": ["CYP2C19"], "drug": ["clopidogrel"], "level": ["1A"]})
    files["data/pharmgkb/pharmacogenomics.parquet"] = parquet(pgx)
    files["data/pharmgkb/manifest.json"] = manifest("pharmgkb", "0.6.0", ["pharmacogenomics"])
    files["data/cancer/weights.parquet"] = b"PAR1 this is not a parquet file"
    files["data/cancer/manifest.json"] = manifest("cancer", "0.6.0", ["weights"])
    files["data/pathogenic/weights.parquet"] = parquet(longevity.drop("genotype").head(5))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    hub = fake_hub_factory("just-dna-seq/annotators", files)
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    get_settings.cache_clear()
    return hub


def test_catalog_lists_every_module_and_says_what_it_cannot_use(hub_modules) -> None:
    catalog = {m.name: m for m in service.module_catalog(SOURCE).modules}
    assert sorted(catalog) == [
        "cancer",
        "cardio",
        "coronary",
        "lipidmetabolism",
        "longevitymap",
        "pathogenic",
        "pharmgkb",
        "superhuman",
        "thrombophilia",
        "vo2max",
    ]
    assert [n for n, m in sorted(catalog.items()) if m.usable] == USABLE
    assert (
        catalog["longevitymap"].version == "0.6.0" and catalog["longevitymap"].title == "Longevitymap (hub)"
    )
    assert catalog["longevitymap"].weights_rows == 1009 and catalog["longevitymap"].notes == ()
    assert catalog["pharmgkb"].notes == (
        "no weights table (pharmacogenomics.parquet): this version scores weights tables only",
        "not used by this version: pharmacogenomics.parquet",
    )
    assert catalog["cancer"].notes[0].startswith("the weights table is unreadable")
    assert catalog["pathogenic"].notes == ("the weights table has no genotype column",)
    with pytest.raises(ModuleSourceError, match="module 'pharmgkb' cannot be run: no weights table"):
        service.launch_run("alice", "nobody", ["longevitymap", "pharmgkb"], modules_source=SOURCE)


def test_list_modules_command_shows_the_notes(hub_modules, capsys) -> None:
    assert main(["list-modules", "--modules-source", SOURCE]) == 0
    out = capsys.readouterr().out
    assert "pharmgkb (cannot be run): no weights table" in out and "10 modules from hf://" in out


def test_newer_layouts_match_like_the_old_one(
    hub_modules, real_modules, genomes: Path, tmp_path: Path
) -> None:
    resolved = resolve_modules_source(SOURCE)
    available, refused = runnable_modules(resolved.root)
    assert available == USABLE and set(refused) == {
        "cancer",
        "pathogenic",
        "pharmgkb",
    }
    assert graph_module_names(SOURCE) == available  # only what can run gets per-sample assets
    weights, _, _ = load_module_tables(resolved.root, "thrombophilia")
    row = weights.filter(pl.col("rsid") == "rs1799963").sort("weight").row(0, named=True)
    assert row["genotype"] == ["A", "A"] and row["alts"] == ["A"] and row["start"] == 46739505

    calls = tmp_path / "calls.parquet"
    normalize_vcf(genomes / "PG_NA12878_hg38-chr21.vcf.gz", calls)
    sample = SampleContext(calls_path=calls, genome_build="GRCh38", has_rsids=False, is_gvcf=False)
    (tmp_path / "hub").mkdir()
    (tmp_path / "old").mkdir()
    hub = annotate_sample(sample, resolved.root, available, tmp_path / "hub")
    old_names = [name for name in available if name != "cardio"]
    old = annotate_sample(sample, real_modules[0], old_names, tmp_path / "old")
    for name in available:
        compiled = "coronary" if name == "cardio" else name  # cardio carries coronary's tables
        assert hub[name]["ledger"] == old[compiled]["ledger"], name
        ours = pl.read_parquet(tmp_path / "hub" / f"{name}_weights.parquet")
        theirs = pl.read_parquet(tmp_path / "old" / f"{compiled}_weights.parquet")
        assert ours.equals(theirs), name
    assert hub["longevitymap"]["matched"] == 3

"""Registry (list + load) and the demo module set with its demo VCF."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pysam
import pytest

from just_dna_pipelines.errors import ModuleSourceError
from just_dna_pipelines.modules.demo import (
    DEMO_SAMPLE,
    GRCH38_LENGTHS,
    ensure_demo_modules,
    ensure_demo_sample,
)
from just_dna_pipelines.modules.registry import list_modules, load_module_tables
from just_dna_pipelines.modules.schema import KNOWN_MODULES, WEIGHTS_SCHEMA


def test_demo_modules_list_as_demo(isolated_settings: Path) -> None:
    modules = list_modules("demo")
    assert [m.name for m in modules] == sorted(KNOWN_MODULES)
    assert all(m.demo and m.title.endswith("(demo data)") and m.weights_rows > 0 for m in modules)
    meta = json.loads((ensure_demo_modules() / "longevitymap" / "module.json").read_text())
    assert meta["demo"] is True and meta["genome_build"] == "GRCh38"


def test_demo_longevitymap_spans_categories_with_studies(isolated_settings: Path) -> None:
    weights, annotations, studies = load_module_tables(ensure_demo_modules(), "longevitymap")
    assert weights["category"].n_unique() >= 5
    assert set(studies["rsid"]) == set(weights["rsid"]) == set(annotations["rsid"])
    assert dict(weights.schema) == WEIGHTS_SCHEMA


def test_registry_defaults_without_module_json(isolated_settings: Path, tmp_path: Path) -> None:
    shutil.copytree(ensure_demo_modules(), tmp_path / "hf-like")
    for meta in (tmp_path / "hf-like").glob("*/module.json"):
        meta.unlink()
    modules = {m.name: m for m in list_modules(str(tmp_path / "hf-like"))}
    assert modules["coronary"].title == "Coronary artery disease" and not modules["coronary"].demo
    assert modules["longevitymap"].weights_rows == 13 and modules["longevitymap"].version == "unversioned"


def test_the_listing_follows_changes_to_a_module_folder(isolated_settings: Path, tmp_path: Path) -> None:
    """The listing keeps what it read of a module while its files are unchanged; any change is seen."""
    source = tmp_path / "changing"
    shutil.copytree(ensure_demo_modules(), source)
    first = {m.name: m for m in list_modules(str(source))}
    assert list_modules(str(source)) == list(first.values())
    weights = pl.read_parquet(source / "longevitymap" / "weights.parquet")
    weights.head(5).write_parquet(source / "longevitymap" / "weights.parquet")
    meta = json.loads((source / "coronary" / "module.json").read_text())
    (source / "coronary" / "module.json").write_text(json.dumps({**meta, "title": "Hearts, renamed"}))
    (source / "vo2max" / "weights.parquet").unlink()
    second = {m.name: m for m in list_modules(str(source))}
    assert first["longevitymap"].weights_rows == 13 and second["longevitymap"].weights_rows == 5
    assert second["coronary"].title == "Hearts, renamed"
    assert first["vo2max"].usable and not second["vo2max"].usable


def test_unknown_module_names_the_available_ones(isolated_settings: Path) -> None:
    with pytest.raises(
        ModuleSourceError, match=r"unknown module 'foo'; available: coronary, lipidmetabolism"
    ):
        load_module_tables(ensure_demo_modules(), "foo")


def test_hf_style_tables_are_brought_to_the_contract(tmp_path: Path) -> None:
    folder = tmp_path / "m" / "x"
    folder.mkdir(parents=True)
    pl.DataFrame(
        {
            "rsid": ["rs1"],
            "chrom": ["chr1"],
            "start": pl.Series([5], dtype=pl.UInt32),
            "genotype": [["A", "G"]],
            "weight": [0.5],
        }
    ).write_parquet(folder / "weights.parquet")
    weights, annotations, studies = load_module_tables(tmp_path / "m", "x")
    assert weights["chrom"].to_list() == ["1"] and weights.schema["start"] == pl.Int64
    assert weights["state"].to_list() == [None] and annotations.height == 0 and studies.height == 0


def test_demo_sample_hits_every_case(isolated_settings: Path, tmp_path: Path) -> None:
    path = ensure_demo_sample(tmp_path / "samples")
    assert ensure_demo_sample(tmp_path / "samples") == path
    text = path.read_text()
    assert text.startswith("##fileformat=VCFv4.2\n") and "DEMO sample: synthetic" in text
    with pysam.VariantFile(str(path)) as vcf:
        assert list(vcf.header.samples) == [DEMO_SAMPLE]
        assert vcf.header.contigs["chr1"].length == GRCH38_LENGTHS["chr1"] == 248956422
        calls = {r.id: r.samples[DEMO_SAMPLE]["GT"] for r in vcf}
    weights = pl.concat(
        [load_module_tables(ensure_demo_modules(), m)[0].select("rsid", "ref") for m in KNOWN_MODULES]
    )
    assert set(calls) < set(weights["rsid"])  # some demo sites are absent from the VCF
    assert {(0, 1), (1, 1), (0, 0), (None, None)} <= set(calls.values())

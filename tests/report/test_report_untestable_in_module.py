"""Curated variants a module's compiler could not turn into testable genotypes, told in the report's ledger."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from just_dna_pipelines.annotation.manifest import module_provenance
from just_dna_pipelines.modules.compile_sqlite import compile_sqlite_modules
from just_dna_pipelines.report.build import build_report_data
from just_dna_pipelines.report.render import render_html

MODULE_FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "modules"
SUPERHUMAN_NO_ALLELE = (
    "41 of superhuman's curated variants could not be tested: the module's source names no allele, "
    "so there is no genotype to look for."
)

pytestmark = [
    pytest.mark.fixtures,
    pytest.mark.skipif(
        not MODULE_FIXTURES.is_dir(), reason=f"real module data not found at {MODULE_FIXTURES.resolve()}"
    ),
]


@pytest.fixture(scope="module")
def superhuman(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real superhuman module compiled from its SQLite; returns its folder."""
    out = tmp_path_factory.mktemp("compiled") / "modules"
    compile_sqlite_modules(MODULE_FIXTURES, out, ["superhuman"])
    return out / "superhuman"


def _report_of(tmp_path: Path, factory, module_dir: Path, entry: dict) -> tuple[str, tuple[str, ...]]:
    """Report a sample whose one module matched nothing (its manifest entry as given): the HTML and what it told."""
    sample_dir, _ = factory.write_sample(
        tmp_path, modules={module_dir.name: {"ledger": factory.ledger(32, 0), **entry}}, rows={}
    )
    data = build_report_data(sample_dir, modules_root=module_dir.parent)
    [section] = data.modules
    assert section.ledger is not None
    return render_html(data), section.ledger.untestable_in_module


def test_superhuman_variants_without_alleles_are_told(tmp_path: Path, factory, superhuman: Path) -> None:
    entry = module_provenance(superhuman)  # what the annotation step writes into the manifest
    assert entry["dropped"] == {
        "not named by the curation": 1186,
        "no allele named at a multi-allelic or unknown locus": 41,
    }
    html, told = _report_of(tmp_path, factory, superhuman, entry)
    assert told == (SUPERHUMAN_NO_ALLELE,)
    block = html[html.index('id="superhuman-ledger"') :]
    assert SUPERHUMAN_NO_ALLELE.replace("'", "&#39;") in block[: block.index("</div>")]


def test_results_annotated_before_drops_were_recorded_take_them_from_the_same_module_version(
    tmp_path: Path, factory, superhuman: Path
) -> None:
    entry = {k: v for k, v in module_provenance(superhuman).items() if k != "dropped"}
    _, told = _report_of(tmp_path, factory, superhuman, entry)
    assert told == (SUPERHUMAN_NO_ALLELE,)
    _, told = _report_of(tmp_path / "other", factory, superhuman, entry | {"version": "0.9"})
    assert told == ()  # another version of the module: its drops are not this run's


def test_a_module_without_a_dropped_record_says_nothing(tmp_path: Path, factory, superhuman: Path) -> None:
    hub = tmp_path / "hub" / "superhuman"
    shutil.copytree(superhuman, hub)
    meta = json.loads((hub / "module.json").read_text())
    del meta["dropped"]
    (hub / "module.json").write_text(json.dumps(meta))
    entry = module_provenance(hub)
    assert entry["dropped"] == {}
    html, told = _report_of(tmp_path / "sample", factory, hub, entry)
    assert told == ()
    block = html[html.index('id="superhuman-ledger"') :]
    assert "curated" not in block[: block.index("</div>")]
    (hub / "module.json").unlink()  # a hub folder with no module.json at all
    assert module_provenance(hub)["dropped"] == {}

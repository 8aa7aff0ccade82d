"""The genomes most people have, through the web app in real Chromium: a 23andMe raw-data download written
from NA12878's real GRCh37 calls is uploaded, annotated with the real modules and reported correctly (the same
person's GRCh38 matches), with an honest account of what an array could test."""

from __future__ import annotations

import re
import time

import pytest

from tests.annotation.vendor_files import na12878_array_rows, render, ship
from webui.harness import chromium, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(600)]
# NA12878's longevitymap matches on chr21 (the GRCh38 VCF with its confident regions says the same).
LONGEVITYMAP_HITS = {"rs2253363", "rs3788157", "rs414743", "rs2838809", "rs2838816"}


def test_a_23andme_download_gets_a_correct_report(
    real_modules_app, genomes, compiled_modules, liftover_chain, tmp_path
):
    rows = na12878_array_rows(tmp_path / "array", genomes, compiled_modules, liftover_chain)
    upload = ship(render("23andMe", rows), tmp_path / "genome_Jane_Doe_v5_Full_20240106.zip", "zip")
    with chromium(tmp_path) as browser:
        page = browser.new_page()
        page.set_default_timeout(60_000)
        sign_up(page, real_modules_app.url, "jane", "correct horse battery")
        page.wait_for_selector("#vcf_upload[data-ready='true']")
        page.set_input_files("#vcf_upload input[type=file]", str(upload))
        page.wait_for_selector("#upload-ok", timeout=120_000)
        detected = page.inner_text("#upload-ok")
        assert "23andMe raw data" in detected and "GRCh37" in detected, detected
        assert f"{len(rows):,} SNPs" in detected and re.search(r"call rate \d+\.\d%", detected), detected
        assert "lifted to GRCh37" in detected

        page.click(".sample-card")
        page.wait_for_selector("#run-button")
        page.wait_for_function("!document.querySelector('#run-button').disabled")
        page.click("#run-button")
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if page.query_selector("#report-frame") or page.query_selector("#run-failure"):
                break
            page.wait_for_timeout(200)
        assert page.query_selector("#run-failure") is None, page.inner_text("#run-failure")
        frame = page.frame_locator("#report-frame")
        frame.locator("text=rs2253363").first.wait_for(timeout=60_000)
        report = frame.locator("body").text_content() or ""
        report = " ".join(report.split())
        for rsid in LONGEVITYMAP_HITS:
            assert rsid in report, rsid
        # The array's honest account: what it tested, and why the rest could not be.
        assert "Tested 6 of 523 sites" in report
        assert "not on" in report and "23andMe" in report and "GRCh37" in report

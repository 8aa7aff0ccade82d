"""The Ensembl entry of the module checklist in real Chromium: offered for a GRCh38 VCF but not ticked by default,
run beside a module with its step shown live, and its results downloaded by the signed-in owner as Parquet and
as a bgzipped, indexed VCF that bcftools reads (and nobody else can fetch)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import polars as pl
import pysam
import pytest

from just_dna_pipelines.modules.demo import ensure_demo_sample
from webui.harness import chromium_people, follow_run, running_app, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(600)]


def demo_reference(folder: Path, demo_vcf: Path) -> dict[tuple[str, int], str]:
    """An Ensembl-layout folder (`data/homo_sapiens-chr*.parquet`) holding every demo record's allele under an
    Ensembl id of its own, plus a row at another position; returns (chrom, position) -> that id."""
    ids: dict[tuple[str, int], str] = {}
    rows: dict[str, list[dict]] = {}
    for line in demo_vcf.read_text().splitlines():
        if line.startswith("#"):
            continue
        chrom, pos, _, ref, alt = line.split("\t")[:5]
        contig = chrom.removeprefix("chr")
        ids[(chrom, int(pos))] = f"rs77{pos}"
        rows.setdefault(contig, []).append(
            {
                "chrom": contig,
                "start": int(pos),
                "ref": ref,
                "alt": alt,
                "id": f"rs77{pos}",
                "CLIN_SIG": "benign",
            }
        )
    data = folder / "data"
    data.mkdir(parents=True)
    for contig, found in rows.items():
        extra = {"chrom": contig, "start": 5, "ref": "A", "alt": "T", "id": "rs1", "CLIN_SIG": "none"}
        pl.DataFrame([*found, extra]).write_parquet(data / f"homo_sapiens-chr{contig}.parquet")
    return ids


@pytest.fixture
def app(app_env, tmp_path: Path):
    """The web app with the demo modules and a local Ensembl reference made for the demo sample."""
    demo = ensure_demo_sample(tmp_path / "demo")
    ids = demo_reference(tmp_path / "ensembl", demo)
    env = {
        **app_env,
        "JUST_DNA_PIPELINES_MODULES_SOURCE": "demo",
        "JUST_DNA_PIPELINES_ENSEMBL_SOURCE": str(tmp_path / "ensembl"),
    }
    with running_app(env, tmp_path / "app.log") as running:
        yield running, ids


def test_the_ensembl_entry_runs_and_its_vcf_downloads_for_bcftools(app, tmp_path: Path) -> None:
    running, ids = app
    with chromium_people(tmp_path, "alice", "bob") as people:
        page = people["alice"].new_page()
        page.set_default_timeout(60_000)
        sign_up(page, running.url, "alice", "correct horse battery")
        page.wait_for_selector("#vcf_upload[data-ready='true']")
        page.click("#demo-sample")
        page.wait_for_selector(".sample-card")
        page.click(".sample-card")
        page.wait_for_selector("#module-ensembl")
        assert page.get_attribute("#module-ensembl", "data-state") == "unchecked"  # not part of a default run
        assert page.get_attribute("#module-ensembl", "data-disabled") is None  # a GRCh38 VCF: offered
        page.click("#select-none")
        page.click("#module-longevitymap")
        page.click("#module-ensembl")
        page.wait_for_function("document.querySelector('#run-button').innerText.includes('Run 2')")
        page.click("#run-button")
        page.wait_for_url(re.compile(r".*/run\?id="))
        follow_run(page)
        page.wait_for_selector("#report-frame")
        steps = page.inner_text("#steps")
        assert "Ensembl annotation" in steps  # the Ensembl step, listed like the others
        assert "Reading your genome" in steps and "user_" not in steps  # steps in words, not asset keys
        modules = page.eval_on_selector_all(".module-progress", "rows => rows.map(r => r.innerText)")
        assert any("ensembl" in row and "took" in row for row in modules), modules

        links = page.eval_on_selector_all("#downloads a", "els => els.map(e => e.href)")
        by_name = {link.rsplit("/", 1)[-1].split("?")[0]: link for link in links}
        wanted = ("ensembl_annotated.parquet", "ensembl_annotated.vcf.gz", "ensembl_annotated.vcf.gz.tbi")
        assert set(wanted) <= set(by_name), sorted(by_name)
        for name in wanted:
            response = page.request.get(by_name[name])
            assert response.status == 200, name
            (tmp_path / name).write_bytes(response.body())

        table = pl.read_parquet(tmp_path / "ensembl_annotated.parquet")
        assert table.height == len(ids)
        found = dict(
            table.select("start", "ensembl_id").iter_rows()
        )  # the demo's positions are all different
        assert found == {position: ensembl_id for (_, position), ensembl_id in ids.items()}
        vcf = tmp_path / "ensembl_annotated.vcf.gz"
        body = subprocess.run(
            ["bcftools", "view", "-H", str(vcf)], capture_output=True, text=True, check=True
        )
        assert len(body.stdout.splitlines()) == len(ids)
        with pysam.VariantFile(str(vcf)) as reader:  # through the downloaded index
            (site,) = list(reader.fetch("chr1", 1_099_999, 1_100_000))
            assert site.info["ensembl_id"] == ids[("chr1", 1_100_000)] and site.info["CLIN_SIG"] == "benign"

        stranger = people["bob"].new_page()
        sign_up(stranger, running.url, "bob", "another long secret")
        for name in wanted:
            assert stranger.request.get(by_name[name]).status == 404, name

"""A multi-sample VCF: the upload lists its people and preselects a real one (not the BLANK control); the
person's pick is kept and is the sample a run reads."""

from __future__ import annotations

import json

from just_dna_pipelines import service
from just_dna_pipelines.settings import get_settings
from webui.services import samples
from webui.services.errors import WebError
from webui.states.sample import vcf_sample_options

FREEBAYES = "vcfpy__tests__vcfs_from_the_wild__freebayes.vcf"  # BLANK, then NA12878 and five more


def test_the_picked_person_is_the_one_the_run_reads(alice, upload_file, genomes, wait_until):
    view = upload_file(alice, genomes.parent / "corpus" / "vcf" / FREEBAYES, filename="trio.vcf")
    names = [name for name, _ in view.vcf_sample_list]
    assert names[:2] == ["BLANK", "NA12878"] and len(names) == 7
    assert view.sample_column == "NA12878"  # the control is skipped by default
    labels = {o["value"]: o["label"] for o in vcf_sample_options(view)}
    assert "looks like a control" in labels["BLANK"] and "calls in the first records" in labels["NA12878"]

    try:
        samples.choose_vcf_sample(alice, "trio", "not-in-the-file")
        raise AssertionError("an unknown sample was accepted")
    except WebError as exc:
        assert "not a sample of trio.vcf" in str(exc)
    try:  # what the browser sent is quoted on one line, however it is crafted
        samples.choose_vcf_sample(alice, "trio", "x\nYour session expired: log in at http://evil.example")
        raise AssertionError("an unknown sample was accepted")
    except WebError as exc:
        assert str(exc) == (
            "x\\nYour session expired: log in at http://evil.example is not a sample of trio.vcf"
        )
    samples.choose_vcf_sample(alice, "trio", "NA12891")
    assert samples.sample_page(alice, "trio").view.sample_column == "NA12891"

    run_id = samples.launch(alice, "trio", ["longevitymap"])
    info = wait_until(lambda: (i := service.get_run(run_id)).finished and i, "the run to end", timeout=300)
    assert info.status == "success", info.error
    manifest = json.loads(
        (get_settings().sample_output_dir("alice", "trio") / "modules" / "manifest.json").read_text()
    )
    assert manifest["input"]["sample_column"] == "NA12891"


def test_a_report_of_another_person_than_the_one_chosen_says_so(alice, upload_file, genomes, wait_until):
    """Picking another person of a multi-sample VCF leaves the last report on the page: it must say whose it is."""
    from webui.states.sample import other_person_notice

    upload_file(alice, genomes.parent / "corpus" / "vcf" / FREEBAYES, filename="trio.vcf")
    run_id = samples.launch(alice, "trio", ["longevitymap"])
    info = wait_until(lambda: (i := service.get_run(run_id)).finished and i, "the run to end", timeout=300)
    assert info.status == "success", info.error
    page = samples.sample_page(alice, "trio")
    assert page.report is not None and page.report_person == "NA12878"
    assert other_person_notice(page.report_person, page.view.sample_column) == ""
    samples.choose_vcf_sample(alice, "trio", "NA19240")
    page = samples.sample_page(alice, "trio")
    assert page.report_person == "NA12878" and page.view.sample_column == "NA19240"
    assert other_person_notice(page.report_person, page.view.sample_column) == (
        "This report is of NA12878. Press Run to make one for NA19240."
    )

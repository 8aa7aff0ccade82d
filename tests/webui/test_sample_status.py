"""A sample's status follows its newest run: a run the person canceled reads as canceled, not failed."""

from __future__ import annotations

from just_dna_pipelines import service
from webui.services import samples
from webui.services.progress import RunView


def test_a_canceled_run_leaves_the_sample_canceled_not_failed(alice, upload_file, long_vcf, wait_until):
    view = upload_file(alice, long_vcf, filename="long.vcf")
    run_id = samples.launch(alice, view.name, ["longevitymap"])
    wait_until(
        lambda: any(e.kind == "step_start" for e in service.run_events(run_id)), "a step of the run to start"
    )
    samples.cancel_run(alice, run_id)
    assert service.get_run(run_id).status == "canceled"
    assert [(s.name, s.status) for s in samples.list_samples(alice)] == [("long", "canceled")]
    assert samples.sample_page(alice, "long").view.status == "canceled"


def test_an_earlier_runs_page_shows_no_report_a_later_run_replaced(alice, wait_until):
    """Each run page shows its own run's report; after a later run it says the report was replaced (it showed
    the later run's report and downloads as its own)."""
    import asyncio

    from webui.services import uploads
    from webui.states.run import REPLACED_NOTICE, RunState, page_values

    demo = uploads.add_demo_sample(alice)

    def finished(run_id: str) -> None:
        info = wait_until(
            lambda: (i := service.get_run(run_id)).finished and i, "the run to end", timeout=300
        )
        assert info.status == "success", info.error

    first = samples.launch(alice, demo.name, ["longevitymap"])
    finished(first)
    report, downloads = asyncio.run(RunState._result_links(alice, demo.name, first, ["longevitymap"]))
    assert report.endswith("longevity_report.html") and downloads

    second = samples.launch(alice, demo.name, ["longevitymap"])
    finished(second)
    assert asyncio.run(RunState._result_links(alice, demo.name, first, ["longevitymap"])) is None
    assert asyncio.run(RunState._result_links(alice, demo.name, second, ["longevitymap"])) is not None
    values = page_values(
        service.get_run(first), RunView(modules=["longevitymap"]), False, None, replaced=True
    )
    assert (values["report_url"], values["downloads"], values["replaced_notice"]) == ("", [], REPLACED_NOTICE)


def test_the_demo_sample_on_real_modules_says_it_matches_next_to_nothing(alice):
    """The demo genotypes suit the demo modules only: on real modules the page says so before a run (a run gave
    an empty report without a word)."""
    import dataclasses

    from webui.services import uploads
    from webui.services.module_choices import module_choices
    from webui.states.sample import DEMO_MODULES_NOTICE, DEMO_SAMPLE_NOTICE, modules_notice
    from webui.states.samples import sample_row

    demo = sample_row(uploads.add_demo_sample(alice))
    choices = module_choices(alice)  # the demo modules (web_env)
    assert choices.modules and modules_notice(choices, demo) == DEMO_MODULES_NOTICE
    real = dataclasses.replace(
        choices, modules=[dataclasses.replace(info, demo=False) for info in choices.modules]
    )
    assert modules_notice(real, demo) == DEMO_SAMPLE_NOTICE
    assert modules_notice(real, {**demo, "filename": "mine.vcf", "vcf_samples": "NA12878"}) == ""

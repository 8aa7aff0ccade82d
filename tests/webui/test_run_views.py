"""Run views kept per process: a run's page shown again continues from the events already folded, on its own copy."""

from just_dna_pipelines.service import ProgressEvent
from webui.services import run_views
from webui.services.progress import RunView


def _ev(cursor: int, kind: str, step: str | None = None, message: str = "") -> ProgressEvent:
    return ProgressEvent(cursor, 100.0 + cursor, step, kind, "info", message)


def test_a_shown_run_continues_from_what_was_read_on_a_copy_of_its_own():
    modules = ["longevitymap", "vo2max"]
    fresh = run_views.view_of("run-a", modules)
    assert (fresh.cursor, fresh.steps, fresh.log) == (-1, {}, [])

    view = RunView(modules=modules)
    view.apply([_ev(1, "step_start", "user_vcf_normalized", "started"), _ev(2, "log", None, "reading")])
    run_views.remember("run-a", view)
    view.apply(
        [_ev(3, "step_success", "user_vcf_normalized", "done")]
    )  # later changes are not in the kept one

    again = run_views.view_of("run-a", modules)
    assert again.cursor == 2 and again.current_step == "user_vcf_normalized"
    again.finish("success")  # what one page does to its copy stays on that page
    assert run_views.view_of("run-a", modules).module_rows() == RunView(modules=modules).module_rows()
    assert run_views.view_of("run-a", modules).cursor == 2

    # another choice of modules (never the case for one run, but then nothing is reused)
    assert run_views.view_of("run-a", ["vo2max"]).cursor == -1
    assert run_views.view_of("run-b", modules).cursor == -1


def test_only_the_newest_runs_are_kept(monkeypatch):
    monkeypatch.setattr(run_views, "MAX_VIEWS", 3)
    for n in range(5):
        view = RunView(modules=["vo2max"])
        view.apply([_ev(n + 1, "log", None, f"line {n}")])
        run_views.remember(f"old-{n}", view)
    assert [run_views.view_of(f"old-{n}", ["vo2max"]).cursor for n in range(5)] == [-1, -1, 3, 4, 5]

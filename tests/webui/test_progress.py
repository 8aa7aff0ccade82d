"""Folding progress events into the live view: steps, per-module state, log lines."""

from just_dna_pipelines import service
from just_dna_pipelines.service import ProgressEvent
from webui.services.progress import CANCELED_STEP, MAX_LOG_LINES, RunView


def _ev(
    cursor: int, kind: str, step: str | None = None, message: str = "", t: float = 100.0
) -> ProgressEvent:
    return ProgressEvent(cursor, t + cursor, step, kind, "info", message)


def test_steps_and_modules_follow_the_events():
    view = RunView(modules=["longevitymap", "vo2max"])
    assert [m["state"] for m in view.module_rows()] == ["waiting", "waiting"]
    view.apply(
        [_ev(1, "step_start", "user_vcf_normalized", 'Started execution of step "user_vcf_normalized".')]
    )
    assert view.current_step == "user_vcf_normalized"
    view.apply(
        [
            _ev(2, "step_success", "user_vcf_normalized", "done"),
            _ev(3, "step_start", "user_hf_module_annotations", "started"),
        ]
    )
    assert view.steps["user_vcf_normalized"] == {
        "name": "Reading your genome",  # what the step does; its key stays for the Dagster UI
        "key": "user_vcf_normalized",
        "status": "done",
        "took": "1.0 s",
    }
    assert view.steps["user_hf_module_annotations"]["name"] == "Matching the modules' variants"
    assert [m["state"] for m in view.module_rows()] == ["working", "working"]
    view.apply([_ev(4, "log", "user_hf_module_annotations", "module vo2max: done, 1 matched variant")])
    rows = {m["name"]: m for m in view.module_rows()}
    assert rows["vo2max"] == {"name": "vo2max", "state": "done", "detail": "1 matched variant"}
    assert rows["longevitymap"]["state"] == "working"
    view.apply([_ev(5, "run_success", None, "Finished")])
    assert {m["state"] for m in view.module_rows()} == {"done"}
    assert view.cursor == 5 and view.last_event_at == 105.0


def test_a_failed_step_marks_working_modules_failed_and_keeps_the_message():
    view = RunView(modules=["coronary"])
    view.apply(
        [
            _ev(1, "step_start", "user_hf_module_annotations"),
            _ev(2, "step_failure", "user_hf_module_annotations", "unknown module 'x'"),
            _ev(3, "run_failure", None, "Execution of run failed"),
        ]
    )
    assert view.module_rows()[0]["state"] == "failed"
    assert view.failure_message == "unknown module 'x'"
    assert view.steps["user_hf_module_annotations"]["status"] == "failed"


def test_log_keeps_the_latest_lines_and_empty_batches_change_nothing():
    view = RunView(modules=[])
    view.apply([_ev(i, "log", "s", f"line {i}") for i in range(30)])
    assert len(view.log) == MAX_LOG_LINES
    assert view.log[-1]["message"] == "line 29"
    assert view.apply([]) is False


def test_skipped_modules_and_settling_after_the_run():
    view = RunView(modules=["coronary", "longevitymap", "vo2max"])
    view.apply(
        [
            _ev(1, "step_start", "user_hf_module_annotations"),
            _ev(2, "log", "user_hf_module_annotations", "module coronary: skipped, 0 matched variants"),
            _ev(3, "log", "user_hf_module_annotations", "module longevitymap: done, 3 matched variants"),
        ]
    )
    view.finish("success")
    states = {m["name"]: m["state"] for m in view.module_rows()}
    assert states == {"coronary": "skipped", "longevitymap": "done", "vo2max": "done"}


def test_report_step_done_is_seen_before_the_run_ends():
    view = RunView(modules=["longevitymap"])
    view.apply([_ev(1, "step_start", "user_longevity_report")])
    assert not view.step_done("longevity_report")
    view.apply([_ev(2, "step_success", "user_longevity_report", "done")])
    assert view.step_done("longevity_report")


def test_server_paths_and_internal_words_never_reach_the_log_or_the_error():
    view = RunView(modules=["longevitymap"])
    view.apply(
        [
            _ev(1, "log", "user_vcf_source", "wrote /srv/jdl/data/output/users/alice/s1/source.json"),
            _ev(
                2, "step_failure", "user_vcf_normalized", "could not read /srv/jdl/in/alice/s1.vcf: empty CSV"
            ),
        ]
    )
    text = " ".join(line["message"] for line in view.log) + view.failure_message
    assert "/srv/" not in text and "empty CSV" not in text
    assert "source.json" in text and "s1.vcf: no data lines" in view.failure_message


def test_the_ensembl_entry_follows_its_own_step():
    view = RunView(modules=["longevitymap", "ensembl"])
    view.apply([_ev(1, "step_start", "user_annotated_vcf_duckdb", "started")])
    assert {m["name"]: m["state"] for m in view.module_rows()} == {
        "longevitymap": "waiting",
        "ensembl": "working",
    }
    view.apply(
        [
            _ev(2, "step_success", "user_annotated_vcf_duckdb", "done"),
            _ev(3, "step_start", "user_hf_module_annotations", "started"),
        ]
    )
    rows = {m["name"]: m for m in view.module_rows()}
    assert rows["ensembl"]["state"] == "done" and rows["ensembl"]["detail"] == "took 1.0 s"
    assert rows["longevitymap"]["state"] == "working"


def test_a_canceled_run_reads_as_canceled_not_as_a_crash(demo_env, long_vcf, add_sample, wait_until):
    """A real run canceled mid-step: its interrupted step once logged "stopped unexpectedly (killed or crashed)"."""
    add_sample("alice", long_vcf, "long")
    run_id = service.launch_run("alice", "long", ["longevitymap"])
    wait_until(
        lambda: any(e.kind == "step_start" for e in service.run_events(run_id)), "a step of the run to start"
    )
    service.cancel_run(run_id)  # returns once its process has stopped
    info = service.get_run(run_id)
    assert info.status == "canceled"
    events = service.run_events(run_id)
    view = RunView(modules=["longevitymap"])
    view.apply(events)
    view.finish(info.status)
    messages = [line["message"] for line in view.log]
    assert not [m for m in messages if "stopped unexpectedly" in m], messages
    interrupted = [e for e in events if e.kind == "step_failure"]
    assert all(m != e.message for e in interrupted for m in messages)  # each reworded
    assert (CANCELED_STEP in messages) == bool(interrupted)
    assert "stopped unexpectedly" not in view.failure_message


def test_a_step_without_words_is_named_by_its_key():
    view = RunView(modules=[])
    view.apply([_ev(1, "step_start", "some_new_step")])
    assert view.step_rows() == [
        {"name": "some_new_step", "key": "some_new_step", "status": "running", "took": ""}
    ]

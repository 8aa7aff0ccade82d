"""A run's event files tell a follower when there is something new to read: their signature changes with
every event the run's storage writes, and stays put while nothing is written."""

from __future__ import annotations

import dagster as dg

from just_dna_pipelines.runs.event_files import event_files, files_signature, may_hold_events
from just_dna_pipelines.runs.events import run_events
from just_dna_pipelines.runs.instance import get_instance


@dg.asset
def small_asset() -> int:
    return 1


def test_the_signature_changes_with_every_event_and_only_then(pipeline_env) -> None:
    instance = get_instance()
    result = dg.materialize([small_asset], instance=instance)
    run_id = result.run_id
    files = event_files(instance, run_id)
    assert files and files[0].is_file() and files[0].name == f"{run_id}.db"

    before = files_signature(files)
    assert may_hold_events(before)
    assert files_signature(files) == before  # nothing written: the same
    stored = len(instance.get_records_for_run(run_id, limit=10_000).records)
    assert run_events(instance, run_id) and stored > 5
    assert files_signature(files) == before  # reading writes nothing
    run = instance.get_run_by_id(run_id)
    assert run is not None
    for n in range(5):
        instance.report_engine_event(f"event {n}", run)
        after = files_signature(files)
        assert after != before, f"event {n} left the signature unchanged"
        before = after
    # what the changed signature announced is there to read
    assert len(instance.get_records_for_run(run_id, limit=10_000).records) == stored + 5


def test_a_run_without_events_yet_has_a_signature_of_missing_files(pipeline_env) -> None:
    instance = get_instance()
    files = event_files(instance, "0123456789abcdef")
    assert files_signature(files) == (-1, -1, -1, -1)
    assert not may_hold_events(files_signature(files)) and may_hold_events(None)
    assert files_signature(()) is None  # no files to watch (PostgreSQL): read each time
    assert not files[0].exists()  # looking created nothing

"""Run-storage reads shared for a moment between pages: reused while the storage is unchanged, read again after
any run changes, never older than MAX_AGE_S."""

from __future__ import annotations

import dagster as dg

from just_dna_pipelines.runs import storage_reads
from just_dna_pipelines.runs.event_files import files_signature, run_storage_files
from just_dna_pipelines.runs.instance import get_instance


@dg.asset
def tiny_asset() -> int:
    return 1


def test_an_answer_is_shared_until_a_run_changes(pipeline_env, monkeypatch) -> None:
    instance = get_instance()
    files = run_storage_files(instance)
    assert files and files[0].name == "runs.db" and files[0].is_file()
    asked: list[int] = []

    def run_count() -> int:  # what a page would ask: here, how many runs there are
        asked.append(1)
        return len(instance.get_run_records())

    assert storage_reads.shared_read(instance, ("count",), run_count) == (0, 0.0)
    answer, age = storage_reads.shared_read(instance, ("count",), run_count)
    assert (answer, len(asked)) == (0, 1) and 0 < age < storage_reads.MAX_AGE_S  # reused

    before = files_signature(files)
    dg.materialize([tiny_asset], instance=instance)  # a run: written to the run storage
    assert files_signature(files) != before
    assert storage_reads.shared_read(instance, ("count",), run_count) == (1, 0.0)  # read again, at once
    assert len(asked) == 2

    monkeypatch.setattr(storage_reads, "MAX_AGE_S", 0.0)  # too old: read again, though nothing changed
    assert storage_reads.shared_read(instance, ("count",), run_count) == (1, 0.0) and len(asked) == 3


def test_nothing_is_kept_for_an_empty_answer(pipeline_env) -> None:
    instance = get_instance()
    asked: list[int] = []

    def missing() -> None:
        asked.append(1)

    for _ in range(2):
        assert storage_reads.shared_read(instance, ("run", "no-such-run"), missing) == (None, 0.0)
    assert len(asked) == 2  # a run looked up before it exists is looked up again next time

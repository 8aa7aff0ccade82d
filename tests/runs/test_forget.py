"""Deleting a sample leaves nothing of it in the Dagster instance: no row, no run database, no deleted bytes."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from just_dna_pipelines import service
from just_dna_pipelines.modules.demo import ensure_demo_sample
from just_dna_pipelines.runs.instance import get_instance
from tests.postgres_files import relations_holding

from .conftest import use_postgres

pytestmark = pytest.mark.slow


def _files_naming(folder: Path, text: bytes) -> list[str]:
    """The files under `folder` whose bytes hold `text` anywhere (free pages and write-ahead logs included)."""
    return sorted(
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and text in path.read_bytes()
    )


def _run_to_success(user: str, sample: str, wait_until) -> str:
    run_id = service.launch_run(user, sample, ["longevitymap"])
    info = wait_until(lambda: (i := service.get_run(run_id)).finished and i, f"run {run_id} to end")
    assert info.status == "success", info.error
    return run_id


def test_a_deleted_sample_leaves_no_trace_in_the_instance_and_others_keep_theirs(
    demo_env, tmp_path: Path, add_sample, wait_until
) -> None:
    """The asset index kept the deleted sample's last materialization (its partition key, file and sample column),
    its run's event database stayed, and the deleted rows' bytes stayed in the databases' free pages and logs."""
    vcf = ensure_demo_sample(tmp_path / "demo")
    add_sample("bob", vcf, "bobs_genome")
    add_sample("alice", vcf, "alices_genome")
    bob_run = _run_to_success("bob", "bobs_genome", wait_until)
    alice_run = _run_to_success("alice", "alices_genome", wait_until)  # the last: the index's latest is hers
    home = demo_env.dagster_home
    assert _files_naming(home, b"alices_genome") and _files_naming(home, alice_run.encode())

    service.delete_sample("alice", "alices_genome")

    assert _files_naming(home, b"alices_genome") == []
    assert _files_naming(home, b"alice/") == []
    assert _files_naming(home, alice_run.encode()) == []
    instance = get_instance()
    keys = instance.get_asset_keys()
    assert dg.AssetKey("user_hf_module_annotations") in keys
    for (
        key
    ) in keys:  # bob's outputs are as they were: his run is the latest of each, his partition materialized
        event = instance.get_latest_materialization_event(key)
        if event is not None:
            assert event.run_id == bob_run, key
            assert instance.get_materialized_partitions(key) == {"bob/bobs_genome"}, key
    assert service.sample_results("bob", "bobs_genome").report is not None
    assert [run.run_id for run in service.sample_runs("bob", "bobs_genome")] == [bob_run]


def test_a_deleted_sample_leaves_no_bytes_in_postgres_storage(
    demo_env, postgres, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, add_sample, wait_until
) -> None:
    """PostgreSQL kept the deleted rows (runs, tags, events, asset index, partition) in its table and index pages,
    and their sampled values in pg_statistic: no vacuum reached them. Nothing of the sample stays in any file of
    the database once it is deleted; bob's rows, rewritten, are all there."""
    url = use_postgres(postgres, monkeypatch)
    vcf = ensure_demo_sample(tmp_path / "demo")
    add_sample("bob", vcf, "bobs_genome")
    add_sample("alice", vcf, "alices_genome")
    bob_run = _run_to_success("bob", "bobs_genome", wait_until)
    alice_run = _run_to_success("alice", "alices_genome", wait_until)
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text("ANALYZE"))  # as autovacuum does once a lab's tables have grown
    engine.dispose()
    markers = (b"alices_genome", b"alice/", alice_run.encode())
    assert all(relations_holding(postgres, url, marker) for marker in markers)

    service.delete_sample("alice", "alices_genome")

    left = {marker: relations_holding(postgres, url, marker) for marker in markers}
    assert not any(left.values()), left
    assert [run.run_id for run in service.sample_runs("bob", "bobs_genome")] == [bob_run]
    assert service.sample_results("bob", "bobs_genome").report is not None
    assert get_instance().has_dynamic_partition(service.PARTITIONS, "bob/bobs_genome")

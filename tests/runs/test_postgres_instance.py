"""Dagster's storage on a real PostgreSQL (DAGSTER_POSTGRES_URL): prepared and migrated once, a run of the
web app's worker stored there and seen through the Dagster webserver's GraphQL API."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from just_dna_pipelines import service
from just_dna_pipelines.modules.demo import ensure_demo_sample
from just_dna_pipelines.runs import instance as instance_module
from just_dna_pipelines.runs.event_files import run_storage_files
from just_dna_pipelines.runs.instance import get_instance, prepare_instance
from just_dna_pipelines.settings import get_settings

from .conftest import dagster_services, use_postgres

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def _revisions(url: str) -> list[str]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = [row[0] for row in connection.execute(sa.text("SELECT version_num FROM alembic_version"))]
    engine.dispose()
    return rows


def test_a_run_on_postgres_storage_is_stored_there_and_seen_through_graphql(
    demo_env, postgres, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, add_sample, wait_until
) -> None:
    plain_url = use_postgres(postgres, monkeypatch)
    url = get_settings().dagster_postgres_url  # the psycopg2 form Dagster is given
    assert url == plain_url.replace("postgresql://", "postgresql+psycopg2://")
    home = Path(prepare_instance())
    config = (home / "dagster.yaml").read_text()
    assert "DAGSTER_POSTGRES_URL" in config and url.split("@")[-1] not in config
    assert not (home / "history" / "runs.db").exists()  # nothing in SQLite
    instance = get_instance()
    (head,) = {instance.run_storage.alembic_version()[1]}  # type: ignore[attr-defined]
    assert _revisions(url) == [head]

    # A database left behind by an older Dagster is migrated when the next process prepares the instance.
    import dagster_postgres.run_storage.run_storage as pg_runs
    from alembic.script import ScriptDirectory
    from dagster_postgres.utils import pg_alembic_config

    history = [
        r.revision for r in ScriptDirectory.from_config(pg_alembic_config(pg_runs.__file__)).walk_revisions()
    ]
    assert history[0] == head
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": history[1]})
    engine.dispose()
    instance_module._prepared.discard(home)
    instance_module._instances.pop(home, None)
    prepare_instance()
    assert _revisions(url) == [head]

    add_sample("dora", ensure_demo_sample(tmp_path / "demo"), "demo")
    run_id = service.launch_run("dora", "demo", ["longevitymap"])
    info = wait_until(lambda: (i := service.get_run(run_id)).finished and i, "the run", timeout=150)
    assert info.status == "success", info.error
    assert service.report_path("dora", "demo") is not None
    assert service.run_event_files(run_id) == ()  # no files to watch: a follower reads the events each time
    assert run_storage_files(get_instance()) == ()  # nor for the runs: their reads are never shared
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        stored = connection.execute(
            sa.text("SELECT status FROM runs WHERE run_id = :r"), {"r": run_id}
        ).scalar()
        events = connection.execute(
            sa.text("SELECT count(*) FROM event_logs WHERE run_id = :r"), {"r": run_id}
        ).scalar()
    engine.dispose()
    assert stored == "SUCCESS" and events and events > 5

    with dagster_services(tmp_path, ("dagster-webserver",)) as services:
        services.wait_for_webserver()
        query = "{ runsOrError { ... on Runs { results { runId status tags { key value } } } } }"
        runs = services.graphql(query)["data"]["runsOrError"]["results"]
    (seen,) = [run for run in runs if run["runId"] == run_id]
    assert seen["status"] == "SUCCESS"
    assert {"key": "dagster/partition", "value": "dora/demo"} in seen["tags"]

    # Deleting the sample leaves no row of the database naming it (the asset index cached its materialization).
    service.delete_sample("dora", "demo")
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        naming = {
            table: count
            for table in sa.inspect(connection).get_table_names()
            if (
                count := connection.execute(
                    sa.text(f'SELECT count(*) FROM "{table}" t WHERE t::text LIKE :s'), {"s": "%dora%"}
                ).scalar()
            )
        }
    engine.dispose()
    assert naming == {}

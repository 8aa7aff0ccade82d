"""deploy/dagster: the compose instance opened as a real DagsterInstance on a real PostgreSQL."""

from __future__ import annotations

import yaml
from dagster import DagsterInstance
from dagster._config import process_config
from dagster._core.launcher import DefaultRunLauncher
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster_docker import DockerRunLauncher
from dagster_postgres import PostgresRunStorage

from tests.deploy.files import (
    CODE_SERVER_PORT,
    DAGSTER_YAML,
    DATA_ROOT,
    DOCKER_LAUNCHER_YAML,
    WORKSPACE_YAML,
    known_env_names,
)
from webui.engines import running_postgres


def test_instance_opens_on_postgres_with_the_queue_and_monitoring(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    # The data root moved under tmp_path: nothing is written to this machine's /data.
    text = DAGSTER_YAML.read_text().replace(f"{DATA_ROOT}/", f"{tmp_path}/data/")
    (home / "dagster.yaml").write_text(text)
    with running_postgres(tmp_path / "pg") as server:
        monkeypatch.setenv("DAGSTER_POSTGRES_URL", server.create_database("dagster"))
        monkeypatch.setenv("JUST_DNA_PIPELINES_MAX_CONCURRENT_RUNS", "3")
        instance = DagsterInstance.from_config(str(home))
        try:
            instance.upgrade()  # what the compose file's dagster-migrate service runs
            assert isinstance(instance.run_storage, PostgresRunStorage)
            assert instance.get_runs() == []
            coordinator = instance.run_coordinator
            assert isinstance(coordinator, QueuedRunCoordinator)
            assert coordinator.get_run_queue_config().max_concurrent_runs == 3
            assert isinstance(instance.run_launcher, DefaultRunLauncher)
            assert instance.run_monitoring_enabled and instance.run_monitoring_max_resume_run_attempts == 0
        finally:
            instance.dispose()


def test_env_names_in_the_instance_config_are_read_by_the_app():
    referenced = {
        value["env"]
        for text in (DAGSTER_YAML.read_text(), DOCKER_LAUNCHER_YAML.read_text())
        for value in _walk(yaml.safe_load(text))
        if isinstance(value, dict) and set(value) == {"env"}
    }
    assert referenced == {"DAGSTER_POSTGRES_URL", "JUST_DNA_PIPELINES_MAX_CONCURRENT_RUNS", "JUST_DNA_IMAGE"}
    assert referenced <= known_env_names()


def test_docker_run_launcher_variant_passes_dagsters_validation(monkeypatch):
    monkeypatch.setenv("JUST_DNA_IMAGE", "just-dna-lite:local")
    launcher = yaml.safe_load(DOCKER_LAUNCHER_YAML.read_text())["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_docker", "DockerRunLauncher")
    result = process_config(DockerRunLauncher.config_type(), launcher["config"])
    assert result.success, result.errors
    assert f"just-dna-data:{DATA_ROOT}" in launcher["config"]["container_kwargs"]["volumes"]


def test_workspace_points_at_the_code_server():
    (entry,) = yaml.safe_load(WORKSPACE_YAML.read_text())["load_from"]
    assert entry["grpc_server"] == {
        "host": "code-server",
        "port": CODE_SERVER_PORT,
        "location_name": "just_dna_pipelines",
    }


def _walk(node):
    """Every dict and value of a parsed YAML tree."""
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)

"""Every dagster.yaml variant we write (SQLite/PostgreSQL x local/queue x default/docker/k8s launcher) loads:
into a real DagsterInstance where that needs no container engine, and through Dagster's own config validation
(the instance schema and each launcher class's schema) everywhere."""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config

from just_dna_pipelines.errors import PipelineError
from just_dna_pipelines.runs.dagster_config import (
    CODE_LOCATION,
    code_server_command,
    dagster_yaml,
    workspace_yaml,
)
from just_dna_pipelines.settings import Settings
from webui.engines import running_postgres

STORAGES = ("sqlite", "postgres")
MODES = ("local", "queue")
LAUNCHERS = ("default", "docker", "k8s")


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with running_postgres() as server:
        yield server.create_database("dagster_variants")


def _settings(
    monkeypatch: pytest.MonkeyPatch, home: Path, storage: str, mode: str, launcher: str, url: str
) -> Settings:
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("JUST_DNA_RUN_MODE", mode)
    monkeypatch.setenv("JUST_DNA_RUN_LAUNCHER", launcher)
    monkeypatch.setenv("JUST_DNA_RUN_IMAGE", "just-dna-lite:test")
    monkeypatch.setenv("JUST_DNA_DOCKER_NETWORK", "just-dna")
    monkeypatch.setenv("JUST_DNA_DOCKER_VOLUMES", "just-dna-data:/data, just-dna-cache:/cache")
    monkeypatch.setenv("JUST_DNA_PIPELINES_MAX_CONCURRENT_RUNS", "3")
    monkeypatch.setenv("JUST_DNA_PIPELINES_MAX_RUNS_PER_USER", "2")
    if storage == "postgres":
        monkeypatch.setenv("DAGSTER_POSTGRES_URL", url)
    else:
        monkeypatch.delenv("DAGSTER_POSTGRES_URL", raising=False)
    return Settings()


@pytest.mark.parametrize(("storage", "mode", "launcher"), list(itertools.product(STORAGES, MODES, LAUNCHERS)))
def test_every_variant_loads_through_dagsters_own_validation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str, storage: str, mode: str, launcher: str
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    settings = _settings(monkeypatch, home, storage, mode, launcher, postgres_url)
    if mode == "queue" and launcher != "default" and storage == "sqlite":
        with pytest.raises(PipelineError) as refused:
            dagster_yaml(settings)
        assert "\n" not in str(refused.value) and "DAGSTER_POSTGRES_URL" in str(refused.value)
        return
    text = dagster_yaml(settings)
    if settings.dagster_postgres_url:  # the form Dagster reads (exported so by ensure_dagster_home)
        monkeypatch.setenv("DAGSTER_POSTGRES_URL", settings.dagster_postgres_url)
    assert postgres_url not in text  # the URL (a password, in production) is read from the environment
    (home / "dagster.yaml").write_text(text)
    config, _ = dagster_instance_config(str(home))  # Dagster's schema for the whole file
    coordinator = config["run_coordinator"]["config"]
    if mode == "queue":
        assert coordinator["max_concurrent_runs"] == 3
        assert {
            "key": "just-dna/user",
            "value": {"applyLimitPerUniqueValue": True},
            "limit": 2,
        } in coordinator["tag_concurrency_limits"]
        assert config["run_monitoring"]["enabled"] is True
        section = config["run_launcher"]
        launcher_class = getattr(importlib.import_module(section["module"]), section["class"])
        checked = process_config(launcher_class.config_type(), section.get("config", {}))
    else:
        assert "run_launcher" not in config
    if mode == "queue" and launcher != "default":
        # No Docker daemon or cluster here: the launcher's own schema validates the section.
        cls = {"docker": "DockerRunLauncher", "k8s": "K8sRunLauncher"}[launcher]
        assert section["class"] == cls
        if launcher == "docker":
            assert section["config"]["container_kwargs"]["volumes"] == [
                "just-dna-data:/data",
                "just-dna-cache:/cache",
            ]
        assert checked.success, checked.errors
        return
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.get_runs()
        kind = type(instance.run_storage).__name__
        assert kind.startswith("Postgres") if storage == "postgres" else kind.startswith("Sqlite"), kind
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert type(instance.run_launcher).__name__ == "DefaultRunLauncher"
        assert instance.run_monitoring_enabled is (mode == "queue")


def test_the_workspace_names_the_code_server_the_command_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUST_DNA_CODE_SERVER_PORT", "4999")
    settings = Settings()
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(workspace_yaml(settings))
    from dagster._core.workspace.load import location_origins_from_yaml_paths

    (origin,) = location_origins_from_yaml_paths([str(workspace)])
    assert origin.location_name == CODE_LOCATION
    command = code_server_command(settings)
    assert (
        command[command.index("-p") + 1] == "4999"
        and command[command.index("--location-name") + 1] == CODE_LOCATION
    )


@pytest.mark.parametrize("launcher", ["docker", "k8s"])
def test_run_containers_get_the_hub_token_only_when_the_daemon_has_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, launcher: str
) -> None:
    from just_dna_pipelines.runs.dagster_config import run_launcher_config

    settings = _settings(monkeypatch, tmp_path, "postgres", "queue", launcher, "postgresql+psycopg2://u@h/db")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    # Dagster fails every launch when a variable passed by name is missing from the daemon's environment.
    assert "HF_TOKEN" not in run_launcher_config(settings)["config"]["env_vars"]
    monkeypatch.setenv("HF_TOKEN", "hf_x")
    assert "HF_TOKEN" in run_launcher_config(settings)["config"]["env_vars"]

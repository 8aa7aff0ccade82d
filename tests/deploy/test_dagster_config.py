"""deploy/dagster: the compose instance is what the app writes for the compose settings, and opens as a real
DagsterInstance on a real PostgreSQL with the URL exactly as compose gives it."""

from __future__ import annotations

import yaml
from dagster import DagsterInstance
from dagster._config import process_config
from dagster._core.launcher import DefaultRunLauncher
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster_docker import DockerRunLauncher
from dagster_postgres import PostgresRunStorage

from just_dna_pipelines.runs import dagster_config
from just_dna_pipelines.runs.dagster_config import dagster_yaml, run_launcher_config, workspace_yaml
from tests.deploy.files import (
    CODE_SERVER_PORT,
    DAGSTER_YAML,
    DATA_ROOT,
    DOCKER_LAUNCHER_YAML,
    WORKSPACE_YAML,
    known_env_names,
    settings_env_names,
    settings_of,
)
from webui.engines import running_postgres

# Sections of deploy/dagster/dagster.yaml the app's own file leaves to DAGSTER_HOME: on the shared data root in
# compose, so the webserver's container finds the step logs of runs the code server's container ran.
SHARED_ROOT_SECTIONS = {"local_artifact_storage", "compute_logs"}
COMPOSE_ENV = {
    "DAGSTER_POSTGRES_URL": "postgresql+psycopg2://u:p@postgres:5432/dagster",
    "JUST_DNA_RUN_MODE": "queue",
    "JUST_DNA_RUN_LAUNCHER": "default",
    "JUST_DNA_CODE_SERVER_HOST": "code-server",
    "JUST_DNA_CODE_SERVER_PORT": str(CODE_SERVER_PORT),
    "JUST_DNA_PIPELINES_MAX_CONCURRENT_RUNS": "2",
}


def static_instance(max_concurrent_runs: int) -> dict:
    """deploy/dagster/dagster.yaml without its shared-root sections, its one env reference resolved."""
    config = yaml.safe_load(DAGSTER_YAML.read_text())
    for section in SHARED_ROOT_SECTIONS:
        assert config.pop(section)["config"]["base_dir"].startswith(f"{DATA_ROOT}/dagster/")
    coordinator = config["run_coordinator"]["config"]
    assert coordinator["max_concurrent_runs"] == {"env": "JUST_DNA_PIPELINES_MAX_CONCURRENT_RUNS"}
    coordinator["max_concurrent_runs"] = max_concurrent_runs
    return config


def generated(text: str) -> dict:
    """A file the app writes, without its marker line."""
    assert text.startswith(dagster_config.MARKER)
    return yaml.safe_load(text.removeprefix(dagster_config.MARKER))


def test_instance_is_what_the_app_writes_for_the_compose_settings():
    settings = settings_of(COMPOSE_ENV)
    assert static_instance(settings.max_concurrent_runs) == generated(dagster_yaml(settings))
    # The static file has no marker: the app (prepare_instance in the web app) never rewrites it.
    assert not DAGSTER_YAML.read_text().startswith(dagster_config.MARKER)


def test_workspace_is_what_the_app_writes_and_points_at_the_code_server():
    settings = settings_of(COMPOSE_ENV)
    static = yaml.safe_load(WORKSPACE_YAML.read_text())
    assert static == generated(workspace_yaml(settings))
    (entry,) = static["load_from"]
    assert entry["grpc_server"] == {
        "host": "code-server",
        "port": CODE_SERVER_PORT,
        "location_name": dagster_config.CODE_LOCATION,
    }


def test_instance_opens_on_postgres_with_the_queue_and_monitoring(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    # The data root moved under tmp_path: nothing is written to this machine's /data.
    text = DAGSTER_YAML.read_text().replace(f"{DATA_ROOT}/", f"{tmp_path}/data/")
    (home / "dagster.yaml").write_text(text)
    with running_postgres() as server:
        # As compose gives it: the driver named (a plain postgresql:// would pick psycopg 3 under SQLAlchemy 2.1).
        url = server.create_database("dagster")
        _, _, rest = url.partition("://")
        monkeypatch.setenv("DAGSTER_POSTGRES_URL", f"postgresql+psycopg2://{rest}")
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
    assert referenced == {
        "DAGSTER_POSTGRES_URL",
        "JUST_DNA_PIPELINES_MAX_CONCURRENT_RUNS",
        "JUST_DNA_RUN_IMAGE",
    }
    assert referenced <= settings_env_names() <= known_env_names()


def test_the_scale_out_settings_are_real_settings():
    # Once named by hand here while other branches added them; now read from Settings and WebSettings.
    assert {
        "DAGSTER_POSTGRES_URL",
        "REDIS_URL",
        "DATABASE_URL",
        "JUST_DNA_RUN_MODE",
        "JUST_DNA_RUN_LAUNCHER",
        "JUST_DNA_RUN_IMAGE",
        "JUST_DNA_CODE_SERVER_HOST",
        "JUST_DNA_CODE_SERVER_PORT",
        "JUST_DNA_WEBUI_WORKERS",
        "JUST_DNA_PIPELINES_MAX_CONCURRENT_RUNS",
        "JUST_DNA_PIPELINES_MAX_RUNS_PER_USER",
    } <= settings_env_names()


def test_docker_run_launcher_variant_is_the_apps_and_passes_dagsters_validation(monkeypatch):
    monkeypatch.setenv("JUST_DNA_RUN_IMAGE", "just-dna-lite:local")
    launcher = yaml.safe_load(DOCKER_LAUNCHER_YAML.read_text())["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_docker", "DockerRunLauncher")
    result = process_config(DockerRunLauncher.config_type(), launcher["config"])
    assert result.success, result.errors
    assert f"just-dna-data:{DATA_ROOT}" in launcher["config"]["container_kwargs"]["volumes"]
    # What the app writes for the same settings, but with variables passed by name, not by value.
    settings = settings_of(
        {
            **COMPOSE_ENV,
            "JUST_DNA_RUN_LAUNCHER": "docker",
            "JUST_DNA_RUN_IMAGE": "just-dna-lite:local",
            "JUST_DNA_DOCKER_NETWORK": "just-dna",
            "JUST_DNA_DOCKER_VOLUMES": f"just-dna-data:{DATA_ROOT}",
        }
    )
    app = run_launcher_config(settings)
    assert (app["module"], app["class"]) == (launcher["module"], launcher["class"])
    assert app["config"]["network"] == launcher["config"]["network"]
    assert app["config"]["container_kwargs"]["volumes"] == launcher["config"]["container_kwargs"]["volumes"]
    passed = set(launcher["config"]["env_vars"])
    assert set(dagster_config.PASSED_ENV) <= passed
    assert {name for name in passed if name.startswith("JUST_DNA_")} == {
        item.split("=", 1)[0] for item in app["config"]["env_vars"] if item.startswith("JUST_DNA_")
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

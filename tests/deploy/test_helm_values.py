"""deploy/helm/dagster-values.yaml for Dagster's chart (helm is not installable here).

The keys are checked against the chart's value models (dagster/helm/dagster/schema: UserDeployment,
K8sRunLauncherConfig, QueuedRunCoordinatorConfig, Daemon, Global), and the instance config the chart
would render from them goes through Dagster's own config validation of K8sRunLauncher and
QueuedRunCoordinator.
"""

from __future__ import annotations

import importlib.util
import tomllib

import yaml
from dagster._config import process_config
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.storage.config import pg_config
from dagster_k8s import K8sRunLauncher
from dagster_postgres.utils import get_conn_string

from just_dna_pipelines.runs.dagster_config import MARKER, dagster_yaml
from tests.deploy.files import (
    CODE_LOCATION_MODULE,
    CODE_SERVER_PORT,
    COMPOSE,
    DAGSTER_HOME,
    DAGSTER_YAML,
    DATA_ROOT,
    HELM_VALUES,
    K8S_DIR,
    PVC_NAME,
    REPO,
    WORKSPACE_YAML,
    known_env_names,
    load_yaml_docs,
    settings_of,
)

VALUES = yaml.safe_load(HELM_VALUES.read_text())
DEPLOYMENT = VALUES["dagster-user-deployments"]["deployments"][0]
K8S_LAUNCHER = VALUES["runLauncher"]["config"]["k8sRunLauncher"]

# Field names of the chart's value models (a subset is enough: these are the ones we may use).
USER_DEPLOYMENT_KEYS = {
    "name", "image", "port", "dagsterApiGrpcArgs", "codeServerArgs", "includeConfigInLaunchedRuns", "env",
    "envConfigMaps", "envSecrets", "annotations", "nodeSelector", "affinity", "tolerations",
    "podSecurityContext", "securityContext", "resources", "livenessProbe", "readinessProbe", "startupProbe",
    "labels", "volumeMounts", "volumes", "schedulerName",
}  # fmt: skip
K8S_LAUNCHER_KEYS = {
    "image", "imagePullPolicy", "jobNamespace", "loadInclusterConfig", "kubeconfigFile", "envConfigMaps",
    "envSecrets", "envVars", "volumeMounts", "volumes", "labels", "failPodOnRunFailure",
}  # fmt: skip
QUEUED_KEYS = {
    "maxConcurrentRuns",
    "tagConcurrencyLimits",
    "dequeueIntervalSeconds",
    "dequeueNumWorkers",
    "dequeueUseThreads",
}
TOP_LEVEL_KEYS = {
    "global", "dagsterWebserver", "dagster-user-deployments", "runLauncher", "postgresql",
    "generatePostgresqlPasswordSecret", "dagsterDaemon", "telemetry", "additionalInstanceConfig",
}  # fmt: skip


def test_keys_are_the_charts():
    assert set(VALUES) <= TOP_LEVEL_KEYS
    assert set(VALUES["global"]) <= {
        "postgresqlSecretName",
        "dagsterHome",
        "serviceAccountName",
        "celeryConfigSecretName",
        "dagsterInstanceConfigMap",
    }
    assert set(DEPLOYMENT) <= USER_DEPLOYMENT_KEYS
    assert set(VALUES["dagsterWebserver"]) <= {
        "replicaCount",
        "env",
        "service",
        "workspace",
        "volumes",
        "volumeMounts",
    }
    assert set(VALUES["dagsterWebserver"]["workspace"]["servers"][0]) <= {"host", "port", "name", "ssl"}
    assert set(VALUES["dagsterDaemon"]) <= {
        "enabled",
        "env",
        "runCoordinator",
        "runMonitoring",
        "volumes",
        "volumeMounts",
    }
    assert VALUES["runLauncher"]["type"] == "K8sRunLauncher" and set(K8S_LAUNCHER) <= K8S_LAUNCHER_KEYS
    coordinator = VALUES["dagsterDaemon"]["runCoordinator"]
    assert coordinator["type"] == "QueuedRunCoordinator"
    assert set(coordinator["config"]["queuedRunCoordinator"]) <= QUEUED_KEYS


def test_code_server_serves_our_definitions_on_the_exposed_port():
    args = DEPLOYMENT["codeServerArgs"]
    assert args[args.index("-m") + 1] == CODE_LOCATION_MODULE
    assert importlib.util.find_spec(CODE_LOCATION_MODULE) is not None
    assert DEPLOYMENT["port"] == CODE_SERVER_PORT
    assert DEPLOYMENT["podSecurityContext"]["runAsNonRoot"] is True
    env = {item["name"]: item["value"] for item in DEPLOYMENT["env"]}
    assert not set(env) - known_env_names()
    for key in ("INPUT_DIR", "OUTPUT_DIR", "CACHE_DIR"):
        assert env[f"JUST_DNA_PIPELINES_{key}"].startswith(f"{DATA_ROOT}/")


def test_code_server_and_run_pods_mount_the_web_apps_claim_at_the_data_root():
    pvc = next(doc for doc in load_yaml_docs(K8S_DIR / "data-pvc.yaml"))
    assert pvc["metadata"]["name"] == PVC_NAME
    for holder in (DEPLOYMENT, K8S_LAUNCHER, VALUES["dagsterDaemon"], VALUES["dagsterWebserver"]):
        claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in holder["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in holder["volumeMounts"]}
        assert claims[mounts[DATA_ROOT]] == PVC_NAME
    artifacts = VALUES["additionalInstanceConfig"]["local_artifact_storage"]["config"]["base_dir"]
    assert artifacts.startswith(f"{DATA_ROOT}/")


def test_web_app_uses_the_charts_instance_secret_and_account():
    deployment = next(doc for doc in load_yaml_docs(K8S_DIR / "webui-deployment.yaml"))
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == VALUES["global"]["serviceAccountName"]
    config_maps = [v["configMap"]["name"] for v in pod["volumes"] if "configMap" in v]
    # The chart's "<fullname>-instance" and "<fullname>-workspace-yaml" for release `dagster`.
    assert config_maps == ["dagster-instance", "dagster-workspace-yaml"]
    secret = pod["containers"][0]["env"][0]["valueFrom"]["secretKeyRef"]
    assert secret == {"name": VALUES["global"]["postgresqlSecretName"], "key": "postgresql-password"}
    assert VALUES["global"]["dagsterHome"] == DAGSTER_HOME


def test_rendered_run_launcher_passes_dagsters_own_validation():
    # What the chart's configmap-instance.yaml writes for K8sRunLauncher from these values.
    config = {
        "load_incluster_config": K8S_LAUNCHER["loadInclusterConfig"],
        "image_pull_policy": K8S_LAUNCHER["imagePullPolicy"],
        "instance_config_map": "dagster-instance",
        "postgres_password_secret": VALUES["global"]["postgresqlSecretName"],
        "dagster_home": VALUES["global"]["dagsterHome"],
        "service_account_name": VALUES["global"]["serviceAccountName"],
        "env_config_maps": K8S_LAUNCHER["envConfigMaps"],
        "env_secrets": K8S_LAUNCHER["envSecrets"],
        "env_vars": K8S_LAUNCHER["envVars"],
        "volume_mounts": K8S_LAUNCHER["volumeMounts"],
        "volumes": K8S_LAUNCHER["volumes"],
        "fail_pod_on_run_failure": K8S_LAUNCHER["failPodOnRunFailure"],
    }
    result = process_config(K8sRunLauncher.config_type(), config)
    assert result.success, result.errors
    bad = process_config(K8sRunLauncher.config_type(), {**config, "volume_mountz": []})
    assert not bad.success


def test_queue_limits_match_the_compose_set_up_and_validate():
    queued = VALUES["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    limits = [
        {"key": t["key"], "value": t["value"], "limit": t["limit"]} for t in queued["tagConcurrencyLimits"]
    ]
    result = process_config(
        QueuedRunCoordinator.config_type(),
        {"max_concurrent_runs": queued["maxConcurrentRuns"], "tag_concurrency_limits": limits},
    )
    assert result.success, result.errors
    compose_instance = yaml.safe_load(DAGSTER_YAML.read_text())
    assert limits == compose_instance["run_coordinator"]["config"]["tag_concurrency_limits"]
    monitoring = VALUES["dagsterDaemon"]["runMonitoring"]
    assert monitoring["enabled"] is True and monitoring["maxResumeRunAttempts"] == 0


def test_code_location_has_one_name_in_every_set_up():
    name = tomllib.loads((REPO / "just-dna-pipelines" / "pyproject.toml").read_text())["tool"]["dagster"][
        "code_location_name"
    ]
    args = DEPLOYMENT["codeServerArgs"]
    assert args[args.index("--location-name") + 1] == name
    (server,) = VALUES["dagsterWebserver"]["workspace"]["servers"]
    assert server == {"host": DEPLOYMENT["name"], "port": DEPLOYMENT["port"], "name": name}
    (entry,) = yaml.safe_load(WORKSPACE_YAML.read_text())["load_from"]
    assert entry["grpc_server"]["location_name"] == name
    code_server = yaml.safe_load(COMPOSE.read_text())["services"]["code-server"]["command"]
    assert code_server[code_server.index("--location-name") + 1] == name


def _code_server_env() -> dict[str, str]:
    return {item["name"]: item["value"] for item in DEPLOYMENT["env"]}


def _web_config() -> dict[str, str]:
    return next(doc for doc in load_yaml_docs(K8S_DIR / "webui-configmap.yaml"))["data"]


def test_queue_limits_and_monitoring_are_what_the_app_writes():
    daemon = VALUES["dagsterDaemon"]
    queued = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
    for env in (_code_server_env(), _web_config()):
        settings = settings_of(env)
        app = yaml.safe_load(dagster_yaml(settings).removeprefix(MARKER))
        assert queued["tagConcurrencyLimits"] == app["run_coordinator"]["config"]["tag_concurrency_limits"]
        monitoring = app["run_monitoring"]
        assert daemon["runMonitoring"]["startTimeoutSeconds"] == monitoring["start_timeout_seconds"]
        assert daemon["runMonitoring"]["pollIntervalSeconds"] == monitoring["poll_interval_seconds"]
    assert queued["maxConcurrentRuns"] == int(_web_config()["JUST_DNA_PIPELINES_MAX_CONCURRENT_RUNS"])


def test_app_settings_on_kubernetes_start_and_name_the_charts_code_server():
    # `start` prepares the instance, which renders the app's dagster.yaml from the settings even when the mounted
    # one (the chart's) is kept: JUST_DNA_RUN_LAUNCHER=k8s without DAGSTER_POSTGRES_URL would stop it there.
    (server,) = VALUES["dagsterWebserver"]["workspace"]["servers"]
    for env in (_code_server_env(), _web_config()):
        settings = settings_of(env)
        assert settings.run_mode == "queue" and settings.run_launcher == "default"
        assert dagster_yaml(settings).startswith(MARKER)
        assert (settings.code_server_host, settings.code_server_port) == (server["host"], server["port"])
    assert _web_config()["DAGSTER_GRPC_TIMEOUT_SECONDS"] == "180"
    for part in ("dagsterWebserver", "dagsterDaemon"):
        assert VALUES[part]["env"] == {"DAGSTER_GRPC_TIMEOUT_SECONDS": "180"}, part


def test_charts_postgres_storage_names_the_psycopg2_driver(monkeypatch):
    # The chart renders storage.postgres.postgres_db from postgresql.* (password: {env: DAGSTER_PG_PASSWORD}).
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", "secret")
    postgres = VALUES["postgresql"]
    rendered = {
        "username": postgres["postgresqlUsername"],
        "password": {"env": "DAGSTER_PG_PASSWORD"},
        "hostname": "dagster-postgresql",
        "db_name": postgres["postgresqlDatabase"],
        "port": 5432,
        "scheme": postgres["postgresqlScheme"],
    }
    result = process_config(pg_config()["postgres_db"].config_type, rendered)
    assert result.success, result.errors
    url = get_conn_string(**{key: str(value) for key, value in result.value.items() if key != "params"})
    assert url == "postgresql+psycopg2://dagster:secret@dagster-postgresql:5432/dagster"
    assert settings_of({"DAGSTER_POSTGRES_URL": url}).dagster_postgres_url == url

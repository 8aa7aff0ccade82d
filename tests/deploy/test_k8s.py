"""deploy/k8s: rendered by `kubectl kustomize`, validated against Kubernetes' own schemas (strict)."""

from __future__ import annotations

import subprocess

import kubernetes_validate
import pytest
import yaml

from tests.deploy.files import (
    DAGSTER_HOME,
    DATA_ROOT,
    K8S_DIR,
    PVC_NAME,
    WEB_PORT,
    console_scripts,
    known_env_names,
    load_yaml_docs,
    tool,
)

KUBERNETES_VERSION = "1.32.0"


@pytest.fixture(scope="module")
def resources() -> dict[str, dict]:
    kubectl = tool("kubectl")
    if kubectl is None:  # render the listed files ourselves
        listed = load_yaml_docs(K8S_DIR / "kustomization.yaml")[0]["resources"]
        docs = [doc for name in listed for doc in load_yaml_docs(K8S_DIR / name)]
    else:
        done = subprocess.run(
            [kubectl, "kustomize", str(K8S_DIR)], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        docs = [doc for doc in yaml.safe_load_all(done.stdout) if doc]
    return {doc["kind"]: doc for doc in docs}


def test_every_resource_passes_the_strict_kubernetes_schema(resources):
    assert set(resources) == {"PersistentVolumeClaim", "ConfigMap", "Deployment", "Service"}
    for doc in resources.values():
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_strict_schema_rejects_a_misspelt_field(resources):
    # Proof that the check above can fail: a typo a lenient apply would drop silently.
    broken = yaml.safe_load(yaml.safe_dump(resources["Deployment"]))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_data_root_is_a_read_write_many_claim_mounted_at_data(resources):
    pvc = resources["PersistentVolumeClaim"]
    assert pvc["metadata"]["name"] == PVC_NAME and pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    pod = resources["Deployment"]["spec"]["template"]["spec"]
    claims = {
        v["name"]: v["persistentVolumeClaim"]["claimName"]
        for v in pod["volumes"]
        if "persistentVolumeClaim" in v
    }
    mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
    assert claims[mounts[DATA_ROOT]] == PVC_NAME
    assert f"{DAGSTER_HOME}/dagster.yaml" in mounts


def test_runs_non_root_without_privilege_escalation(resources):
    pod = resources["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] >= 1000
    container = pod["containers"][0]["securityContext"]
    assert container["allowPrivilegeEscalation"] is False and container["capabilities"]["drop"] == ["ALL"]


def test_probes_ports_and_command_agree_with_the_image(resources):
    container = resources["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][0] in console_scripts()
    assert container["ports"] == [{"name": "http", "containerPort": WEB_PORT}]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/ping", "port": "http"}
    service = resources["Service"]["spec"]
    assert service["ports"][0]["targetPort"] == "http"
    assert (
        service["selector"].items()
        <= resources["Deployment"]["spec"]["template"]["metadata"]["labels"].items()
    )
    config = resources["ConfigMap"]["data"]
    assert int(config["JUST_DNA_FRONTEND_PORT"]) == int(config["JUST_DNA_BACKEND_PORT"]) == WEB_PORT


def test_config_names_are_read_and_secrets_stay_out(resources):
    config = resources["ConfigMap"]["data"]
    assert not set(config) - known_env_names(), sorted(set(config) - known_env_names())
    assert "DATABASE_URL" not in config and "REDIS_URL" not in config
    assert config["JUST_DNA_RUN_MODE"] == "queue" and config["DAGSTER_HOME"] == DAGSTER_HOME
    for key in ("INPUT_DIR", "OUTPUT_DIR", "CACHE_DIR"):
        assert config[f"JUST_DNA_PIPELINES_{key}"].startswith(f"{DATA_ROOT}/")
    env_from = resources["Deployment"]["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    assert {"secretRef": {"name": "just-dna-webui"}} in env_from

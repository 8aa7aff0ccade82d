"""Start the real app (launcher, no Dagster UI) on free loopback ports and drive it with Chromium.

Used by the end-to-end tests (tests/webui) and the web benchmark (bench/webui).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from webui.toolchain import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MARKER = "JUST_DNA_TEST_APP"


@dataclass(frozen=True)
class RunningApp:
    """A started web app."""

    url: str
    backend_url: str
    log: Path
    marker: str = ""
    dagster_url: str | None = None  # the Dagster webserver, when started with `dagster=True`


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, deadline: float) -> None:
    """Wait until `url` answers 200, or raise TimeoutError."""
    while time.monotonic() < deadline:
        with suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not come up")


def _kill_marked(marker: str) -> None:
    """Kill any process still carrying this app's marker in its environment (left by a crashed launcher)."""
    import psutil

    for proc in psutil.process_iter(["pid"]):
        with suppress(psutil.Error):
            if proc.environ().get(MARKER) == marker:
                proc.kill()


def kill_stack(app: RunningApp) -> int:
    """kill -9 every process of a started app (launcher, web app, its workers, Dagster's services and their run
    processes), each whole process group at once, as a power cut would; returns how many processes it killed."""
    import psutil

    groups: set[int] = set()
    found = 0
    for proc in psutil.process_iter(["pid"]):
        with suppress(psutil.Error):
            if proc.environ().get(MARKER) == app.marker:
                groups.add(os.getpgid(proc.pid))
                found += 1
    for group in groups:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
    _kill_marked(app.marker)  # anything that had left its group
    return found


@contextmanager
def running_app(
    env: dict[str, str], log: Path, timeout: float = 240.0, prod: bool = False, dagster: bool = False
):
    """Run `start --no-dagster` (dev, or `--prod` on one port) with `env` on free ports; stop all of it afterwards.

    With `dagster`, `start` also starts Dagster's services (code server, webserver, daemon) with the webserver
    on a free port (`RunningApp.dagster_url`); the code server's port is the settings' (set
    JUST_DNA_CODE_SERVER_PORT in `env` and in the test's own environment alike)."""
    front = free_port()
    back = front if prod else free_port()
    marker = uuid.uuid4().hex
    full_env = {**os.environ, **env, MARKER: marker, "PYTHONUNBUFFERED": "1"}
    start = Path(sys.executable).parent / "start"
    cmd = [str(start), "--frontend-port", str(front), "--backend-port", str(back)]
    dagster_url = None
    if dagster:
        dagster_port = free_port()
        cmd += ["--dagster-port", str(dagster_port), "--dagster-host", "127.0.0.1"]
        dagster_url = f"http://127.0.0.1:{dagster_port}"
    else:
        cmd.append("--no-dagster")
    if prod:
        cmd.append("--prod")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=REPO_ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + timeout
        _wait_http(f"http://127.0.0.1:{back}/ping", deadline)
        _wait_http(f"http://127.0.0.1:{front}/", deadline)
        if dagster_url:
            _wait_http(f"{dagster_url}/server_info", deadline)
        yield RunningApp(f"http://127.0.0.1:{front}", f"http://127.0.0.1:{back}", log, marker, dagster_url)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        _kill_marked(marker)


def dagster_graphql(dagster_url: str, query: str, variables: dict | None = None) -> dict:
    """Ask the Dagster webserver's GraphQL API; the `data` of the answer (AssertionError on GraphQL errors)."""
    import json

    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"{dagster_url}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
    assert not answer.get("errors"), answer["errors"]
    return answer["data"]


RUN_QUERY = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { runId status jobName tags { key value } }
  }
}
"""

PARTITIONS_QUERY = """
query Partitions {
  assetNodes { assetKey { path } partitionKeysByDimension { name partitionKeys } }
}
"""


def dagster_sees_run(dagster_url: str, run_id: str) -> tuple[str, dict[str, str], set[str]]:
    """What Dagster's GraphQL API says of a run: its status, its tags and every asset partition key it lists."""
    run = dagster_graphql(dagster_url, RUN_QUERY, {"runId": run_id})["runOrError"]
    assert run["__typename"] == "Run", run
    nodes = dagster_graphql(dagster_url, PARTITIONS_QUERY)["assetNodes"]
    keys = {
        key
        for node in nodes
        for dimension in node.get("partitionKeysByDimension") or []
        for key in dimension["partitionKeys"]
    }
    return run["status"], {t["key"]: t["value"] for t in run["tags"]}, keys


def _profile(playwright, folder: Path):
    """A headless system Chromium with a fresh profile in `folder`."""
    return playwright.chromium.launch_persistent_context(
        str(folder),
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        headless=True,
        accept_downloads=True,
        viewport={"width": 1280, "height": 900},
    )


@contextmanager
def chromium(tmp: Path):
    """A headless system Chromium through Playwright, with a fresh profile."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = _profile(p, tmp / "chromium-profile")
        try:
            yield context
        finally:
            context.close()


@contextmanager
def chromium_people(tmp: Path, *names: str):
    """One Chromium profile per person (separate cookies and storage), in one Playwright session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        contexts = {name: _profile(p, tmp / f"chromium-{name}") for name in names}
        try:
            yield contexts
        finally:
            for context in contexts.values():
                context.close()


def sign_up(page, url: str, name: str, password: str) -> None:
    """Sign up through the real form and wait for the home page with the user menu."""
    page.goto(f"{url}/signup")
    page.fill("#name", name)
    page.fill("#password", password)
    page.fill("#confirm", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/", timeout=30_000)
    page.wait_for_selector("#user-menu", timeout=30_000)


def log_in(page, url: str, name: str, password: str) -> None:
    """Log in through the real form and wait for the home page."""
    page.goto(f"{url}/login")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/", timeout=30_000)
    page.wait_for_selector("#user-menu", timeout=30_000)


def log_out(page, url: str) -> None:
    """Log out from the user menu and wait for the login page."""
    page.click("#user-menu")
    page.click("#logout")
    page.wait_for_url(f"{url}/login", timeout=30_000)


# The web app's side of a first start, in its own process as the launcher starts it: warm the run worker,
# "Use the demo sample", run it; with an argument, write "<run id> <status>" to that file, else assert success.
FIRST_START_APP_SIDE = """
import sys, time
from pathlib import Path
from just_dna_pipelines import service
from just_dna_pipelines.modules.demo import ensure_demo_sample
service.warm_up()
vcf = ensure_demo_sample(service.upload_path("alice", "x.vcf").parent)
service.register_sample("alice", "demo_sample", vcf)
run_id = service.launch_run("alice", "demo_sample", ["longevitymap"])
while not (info := service.get_run(run_id)).finished:
    time.sleep(0.1)
if len(sys.argv) > 1:
    Path(sys.argv[1]).write_text(f"{run_id} {info.status}")
else:
    assert info.status == "success", info
"""


def follow_run(page, timeout_s: float = 180) -> int:
    """Watch a run page until its report or failure shows; return how many live updates it counted on the way.

    Fails the test when the run failed (with the page's message)."""
    live_updates = 0
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if page.query_selector("#report-frame") or page.query_selector("#run-failure"):
            break
        count = page.query_selector("#update-count")
        if count is not None:
            live_updates = max(live_updates, int(count.inner_text().split()[0] or 0))
        page.wait_for_timeout(100)
    failure = page.query_selector("#run-failure")
    assert failure is None, failure.inner_text()
    return live_updates

"""Fixtures shared by the whole suite: real-data fixtures, an isolated pipeline environment, a loopback hub."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlparse

import pytest

# Commands the tests start run in their own processes: a warm command server (cli/warm_server.py) started by
# one would outlive it, with a set-up (temp folders) no later test shares. tests/cli/test_warm_server.py turns
# them on where it tests them.
os.environ["JUST_DNA_PIPELINES_WARM_SECONDS"] = "0"

SHARED_FIXTURES = Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures"
GENOMES = SHARED_FIXTURES / "genomes"
MODULE_DBS = SHARED_FIXTURES / "modules"
LIFTOVER_CHAIN = SHARED_FIXTURES / "liftover" / "hg38ToHg19.over.chain.gz"
T = TypeVar("T")


def require_shared_fixtures() -> None:
    """Skip when the shared real-data folder is absent (it lives beside the repository, never in it)."""
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"real-data fixtures not found at {SHARED_FIXTURES.resolve()} (../shared/fixtures)")


@pytest.fixture(scope="session")
def genomes() -> Path:
    """The real genomes folder."""
    require_shared_fixtures()
    return GENOMES


@pytest.fixture(scope="session")
def liftover_chain() -> Path:
    """UCSC's hg38ToHg19 chain from the real-data fixtures."""
    require_shared_fixtures()
    if not LIFTOVER_CHAIN.is_file():
        pytest.skip(f"liftover chain not found at {LIFTOVER_CHAIN.resolve()}")
    return LIFTOVER_CHAIN


@pytest.fixture(scope="session")
def compiled_modules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The five real modules compiled from their SQLite databases, once per session."""
    require_shared_fixtures()
    from just_dna_pipelines.modules.compile_sqlite import compile_sqlite_modules

    out = tmp_path_factory.mktemp("real-modules") / "modules"
    compile_sqlite_modules(MODULE_DBS, out)
    return out


@dataclass(frozen=True)
class PipelineEnv:
    """Temp folders the pipeline uses instead of the repository's data/."""

    root: Path
    input_dir: Path
    output_dir: Path
    dagster_home: Path
    cache_dir: Path


@pytest.fixture
def pipeline_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PipelineEnv]:
    """Point every configured folder into tmp_path (and HF at a closed port), with fresh settings."""
    from just_dna_pipelines.runs import instance
    from just_dna_pipelines.settings import get_settings

    env = PipelineEnv(
        tmp_path, tmp_path / "input", tmp_path / "output", tmp_path / "dagster", tmp_path / "cache"
    )
    monkeypatch.setenv("JUST_DNA_PIPELINES_INPUT_DIR", str(env.input_dir))
    monkeypatch.setenv("JUST_DNA_PIPELINES_OUTPUT_DIR", str(env.output_dir))
    monkeypatch.setenv("JUST_DNA_PIPELINES_CACHE_DIR", str(env.cache_dir))
    monkeypatch.setenv("DAGSTER_HOME", str(env.dagster_home))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    # No test downloads the liftover chain: tests that need one point JUST_DNA_PIPELINES_LIFTOVER_CHAIN at it.
    monkeypatch.setenv("JUST_DNA_PIPELINES_LIFTOVER_CHAIN_URL", "")
    monkeypatch.delenv("JUST_DNA_PIPELINES_LIFTOVER_CHAIN", raising=False)
    monkeypatch.delenv("JUST_DNA_PIPELINES_MODULES_SOURCE", raising=False)
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()
    instance._instances.clear()
    os.environ.pop("DAGSTER_HOME", None)


class HubRepo:
    """One dataset on the fake hub: its revisions (commit -> files), the newest first in `sha`."""

    def __init__(self, repo_id: str, files: dict[str, bytes]) -> None:
        self.repo_id = repo_id
        self.revisions: dict[str, dict[str, bytes]] = {}
        self.sha = ""
        self.publish(files)

    def publish(self, files: dict[str, bytes]) -> str:
        """Make `files` the newest revision of the dataset and return its commit."""
        digest = hashlib.sha1(self.repo_id.encode())
        for name in sorted(files):
            digest.update(name.encode() + b"\0" + files[name])
        digest.update(str(len(self.revisions)).encode())
        self.sha = digest.hexdigest()
        self.revisions[self.sha] = dict(files)
        return self.sha

    @property
    def files(self) -> dict[str, bytes]:
        """The files of the newest revision."""
        return self.revisions[self.sha]

    def files_at(self, revision: str) -> dict[str, bytes] | None:
        """The files of a commit, or of the newest revision for a branch name."""
        return self.revisions.get(revision) or (self.files if len(revision) != 40 else None)


class FakeHub(http.server.ThreadingHTTPServer):
    """A loopback stand-in for the Hugging Face endpoints the project calls (dataset info, tree, resolve).

    It serves one dataset, or more (`add_repo`). `publish(files)` makes a new revision of the first one (old
    ones stay readable by commit); `cut[path] = (n, mode)` breaks the next download of `path` after n bytes
    ("close" drops the connection, "stall" hangs, "flood" streams bytes without end and without a length);
    `lie_sha256[path]` / `lie_size[path]` / `lie_etag[path]` announce a wrong SHA-256 / size / ETag; `endless_tree` makes every tree
    listing name itself as its next page; `token` demands `Authorization: Bearer <token>`.
    """

    daemon_threads = True

    def __init__(self, repo_id: str, files: dict[str, bytes]) -> None:
        super().__init__(("127.0.0.1", 0), _HubHandler)
        self.repo_id = repo_id
        self.repos: dict[str, HubRepo] = {repo_id: HubRepo(repo_id, files)}
        self.requests: list[str] = []
        self.headers_seen: list[dict[str, str]] = []
        self.cut: dict[str, tuple[int, str]] = {}
        self.lie_sha256: dict[str, str] = {}
        self.lie_size: dict[str, int] = {}
        self.lie_etag: dict[str, str] = {}
        self.endless_tree = False
        self.token: str | None = None
        self.release = threading.Event()

    def add_repo(self, repo_id: str, files: dict[str, bytes]) -> HubRepo:
        """Serve another dataset from the same endpoint."""
        self.repos[repo_id] = HubRepo(repo_id, files)
        return self.repos[repo_id]

    def publish(self, files: dict[str, bytes]) -> str:
        """Make `files` the newest revision of the first dataset and return its commit."""
        return self.repos[self.repo_id].publish(files)

    @property
    def sha(self) -> str:
        """The first dataset's newest commit."""
        return self.repos[self.repo_id].sha

    @property
    def files(self) -> dict[str, bytes]:
        """The files of the first dataset's newest revision."""
        return self.repos[self.repo_id].files

    @property
    def endpoint(self) -> str:
        """The base URL to pass as HF_ENDPOINT."""
        return f"http://127.0.0.1:{self.server_address[1]}"


def git_blob_id(body: bytes) -> str:
    """The git blob id of some bytes."""
    return hashlib.sha1(f"blob {len(body)}\0".encode() + body).hexdigest()


class _HubHandler(http.server.BaseHTTPRequestHandler):
    server: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        """Keep test output quiet."""

    def _send(self, status: int, body: bytes, headers: dict[str, str], head: bool = False) -> None:
        self.send_response(status)
        for key, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _tree(self, files: dict[str, bytes], prefix: str) -> list[dict]:
        entries = []
        for name, body in sorted(files.items()):
            if prefix and not name.startswith(prefix.rstrip("/") + "/"):
                continue
            size = self.server.lie_size.get(name, len(body))
            entry: dict = {"type": "file", "path": name, "size": size, "oid": git_blob_id(body)}
            if name.endswith(".parquet") or name in self.server.lie_sha256:
                sha256 = self.server.lie_sha256.get(name) or hashlib.sha256(body).hexdigest()
                entry["lfs"] = {"oid": sha256, "size": size, "pointerSize": 134}
            entries.append(entry)
        return entries

    def _route(self, head: bool) -> None:
        hub, path = self.server, unquote(urlparse(self.path).path)
        hub.requests.append(f"{self.command} {path}")
        hub.headers_seen.append({k.lower(): v for k, v in self.headers.items()})
        if hub.token is not None and self.headers.get("Authorization") != f"Bearer {hub.token}":
            body = b'{"error": "Invalid credentials in Authorization header"}'
            return self._send(401, body, {"X-Error-Code": "RepoNotFound"}, head)
        json_type = {"Content-Type": "application/json"}
        for repo in hub.repos.values():
            api = f"/api/datasets/{repo.repo_id}/"
            resolve = f"/datasets/{repo.repo_id}/resolve/"
            if path.startswith(api + "revision/") or path == api.rstrip("/"):
                revision = path[len(api + "revision/") :] or "main"
                files = repo.files_at(revision)
                if files is None:
                    return self._send(
                        404, b'{"error": "no revision"}', {"X-Error-Code": "RevisionNotFound"}, head
                    )
                sha = revision if revision in repo.revisions else repo.sha
                info = {"id": repo.repo_id, "sha": sha, "siblings": [{"rfilename": f} for f in files]}
                return self._send(200, json.dumps(info).encode(), json_type, head)
            if path.startswith(api + "tree/"):
                revision, _, prefix = path[len(api + "tree/") :].partition("/")
                files = repo.files_at(revision)
                if files is None:
                    return self._send(
                        404, b'{"error": "no revision"}', {"X-Error-Code": "RevisionNotFound"}, head
                    )
                if hub.endless_tree:
                    json_type = {**json_type, "Link": f'<{hub.endpoint}{self.path}>; rel="next"'}
                return self._send(200, json.dumps(self._tree(files, prefix)).encode(), json_type, head)
            if path.startswith(resolve):
                revision, _, filename = path[len(resolve) :].partition("/")
                files = repo.files_at(revision) or {}
                if filename in files:
                    commit = revision if revision in repo.revisions else repo.sha
                    return self._serve_file(filename, files[filename], commit, head)
        return self._send(404, b'{"error": "not found"}', {"X-Error-Code": "EntryNotFound"}, head)

    def _serve_file(self, filename: str, body: bytes, commit: str, head: bool) -> None:
        hub = self.server
        headers = {"X-Repo-Commit": commit}
        headers["ETag"] = f'"{hub.lie_etag.get(filename) or git_blob_id(body)}"'
        start = 0
        wanted = self.headers.get("Range", "")
        if wanted.startswith("bytes=") and wanted[6:].split("-")[0].isdigit():
            start = int(wanted[6:].split("-")[0])
        status = 206 if start else 200
        if start:
            headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
        payload = body[start:]
        cut = None if head else hub.cut.pop(filename, None)
        if cut is None:
            return self._send(status, payload, headers, head)
        sent, mode = cut
        if mode == "flood":
            return self._flood(status, headers)
        self.send_response(status)
        for key, value in {"Content-Length": str(len(payload)), **headers}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload[:sent])
        self.wfile.flush()
        if mode == "stall":
            hub.release.wait(60)
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _flood(self, status: int, headers: dict[str, str]) -> None:
        """Stream bytes without a length until the client hangs up."""
        self.send_response(status)
        for key, value in {**headers, "Transfer-Encoding": "chunked"}.items():
            self.send_header(key, value)
        self.end_headers()
        chunk = b"\0" * 65536
        with contextlib.suppress(OSError):
            while not self.server.release.is_set():
                self.wfile.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
        self.close_connection = True

    def do_GET(self) -> None:
        """Serve repo info, the tree listing and file contents."""
        self._route(head=False)

    def do_HEAD(self) -> None:
        """Serve file metadata."""
        self._route(head=True)


@pytest.fixture
def fake_hub_factory() -> Iterator:
    """Start FakeHub servers on loopback; all are stopped at teardown."""
    servers: list[FakeHub] = []

    def start(repo_id: str, files: dict[str, bytes]) -> FakeHub:
        hub = FakeHub(repo_id, files)
        threading.Thread(target=hub.serve_forever, daemon=True).start()
        servers.append(hub)
        return hub

    yield start
    for hub in servers:
        hub.release.set()
        hub.shutdown()
        hub.server_close()


LONG_VCF_RECORDS = 5_000_000


@pytest.fixture(scope="session")
def long_vcf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo sample plus five million filler calls (190 MB): a run over it takes tens of seconds, so a test can act
    on a run in progress (queue behind it, cancel it, kill it, delete its sample) before it ends."""
    from just_dna_pipelines.modules.demo import ensure_demo_sample

    folder = tmp_path_factory.mktemp("long-vcf")
    header = [line for line in ensure_demo_sample(folder).read_text().splitlines() if line.startswith("#")]
    path = folder / "long.vcf"
    with path.open("w") as out:
        out.write("\n".join(header) + "\n")
        out.writelines(
            f"chr22\t{10_000_000 + i}\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\n" for i in range(LONG_VCF_RECORDS)
        )
    return path


@pytest.fixture
def demo_env(pipeline_env: PipelineEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[PipelineEnv]:
    """pipeline_env with the demo modules and one run at a time; runs still going at the end are canceled."""
    from just_dna_pipelines.settings import get_settings

    monkeypatch.setenv("JUST_DNA_PIPELINES_MODULES_SOURCE", "demo")
    monkeypatch.setenv("JUST_DNA_PIPELINES_MAX_CONCURRENT_RUNS", "1")
    get_settings.cache_clear()
    yield pipeline_env
    from just_dna_pipelines import service
    from just_dna_pipelines.errors import PipelineError
    from just_dna_pipelines.runs.instance import get_instance

    for run in get_instance().get_runs():
        if not run.is_finished:
            with contextlib.suppress(PipelineError, KeyError):
                service.cancel_run(run.run_id)  # stops its process: nothing outlives the test


def _add_sample(user: str, source: Path, name: str) -> str:
    """Put a VCF in the user's upload folder as sample `name` (a hard link when possible) and register it."""
    from just_dna_pipelines import service

    target = service.upload_path(user, f"{name}.vcf")
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
    service.register_sample(user, name, target)
    return name


def _wait_until(
    condition: Callable[[], T | None], what: str, timeout: float = 300, interval: float = 0.05
) -> T:
    """Poll `condition` until it returns something truthy and return that; fail saying `what` did not happen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def add_sample() -> Callable[[str, Path, str], str]:
    """add_sample(user, vcf, name): put a VCF in the user's upload folder as sample `name` and register it."""
    return _add_sample


@pytest.fixture
def wait_until() -> Callable[..., object]:
    """wait_until(condition, what, timeout=300): poll until `condition()` is truthy and return its value."""
    return _wait_until


@pytest.fixture(scope="session", autouse=True)
def _stop_run_worker() -> Iterator[None]:
    """Stop the warm run worker a test session started (its runs were canceled by their tests)."""
    yield
    import sys

    if "just_dna_pipelines.runs.launcher" in sys.modules:
        sys.modules["just_dna_pipelines.runs.launcher"]._worker.stop()

"""Shared helpers for module tests: fixture paths, isolated settings, tiny SQLite folders, a loopback hub."""

from __future__ import annotations

import hashlib
import http.server
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from just_dna_pipelines.modules.compile_sqlite import BuiltModule, compile_sqlite_modules
from just_dna_pipelines.settings import get_settings

FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures"
MODULE_FIXTURES = FIXTURES / "modules"


def needs_fixtures() -> None:
    """Skip the calling test when the shared real-data fixtures are absent."""
    if not MODULE_FIXTURES.is_dir():
        pytest.skip(f"real module data not found at {MODULE_FIXTURES.resolve()}")


@pytest.fixture
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the cache at tmp_path and the hub at a closed loopback port; return the cache dir."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("JUST_DNA_PIPELINES_CACHE_DIR", str(cache))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("JUST_DNA_PIPELINES_MODULES_SOURCE", raising=False)
    get_settings.cache_clear()
    yield cache
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def real_modules(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, BuiltModule]]:
    """The real fixtures compiled once per session: (output folder, built modules by name)."""
    needs_fixtures()
    out = tmp_path_factory.mktemp("compiled") / "modules"
    built = compile_sqlite_modules(MODULE_FIXTURES, out)
    return out, {b.name: b for b in built}


def make_sqlite(path: Path, tables: dict[str, tuple[str, list[tuple]]]) -> Path:
    """Create a SQLite file from {table: (column DDL, rows)}."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    for name, (ddl, rows) in tables.items():
        con.execute(f'CREATE TABLE "{name}" ({ddl})')
        if rows:
            con.executemany(f'INSERT INTO "{name}" VALUES ({",".join("?" * len(rows[0]))})', rows)
    con.commit()
    con.close()
    return path


@pytest.fixture
def sqlite_maker():
    """`make_sqlite` for tests (conftest modules are not importable under --import-mode=importlib)."""
    return make_sqlite


@pytest.fixture
def module_fixtures() -> Path:
    """The shared real module data folder (skips when absent)."""
    needs_fixtures()
    return MODULE_FIXTURES


class FakeHub(http.server.ThreadingHTTPServer):
    """A loopback stand-in for the three Hugging Face endpoints `snapshot_download` calls."""

    def __init__(self, repo_id: str, files: dict[str, bytes]) -> None:
        super().__init__(("127.0.0.1", 0), _HubHandler)
        self.repo_id = repo_id
        self.files = files
        self.sha = hashlib.sha1(b"".join(files.values())).hexdigest()
        self.requests: list[str] = []

    @property
    def endpoint(self) -> str:
        """The base URL to pass as HF_ENDPOINT."""
        return f"http://127.0.0.1:{self.server_address[1]}"


class _HubHandler(http.server.BaseHTTPRequestHandler):
    server: FakeHub

    def log_message(self, *args: object) -> None:
        """Keep test output quiet."""

    def _send(self, status: int, body: bytes, headers: dict[str, str], head: bool = False) -> None:
        self.send_response(status)
        for key, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _route(self, head: bool) -> None:
        hub, path = self.server, unquote(urlparse(self.path).path)
        hub.requests.append(f"{self.command} {path}")
        api = f"/api/datasets/{hub.repo_id}/"
        resolve = f"/datasets/{hub.repo_id}/resolve/"
        if path.startswith(api + "revision/"):
            info = {"id": hub.repo_id, "sha": hub.sha, "siblings": [{"rfilename": f} for f in hub.files]}
            return self._send(200, json.dumps(info).encode(), {"Content-Type": "application/json"}, head)
        if path.startswith(api + "tree/"):
            tree = [
                {"type": "file", "path": f, "size": len(b), "oid": hashlib.sha1(b).hexdigest()}
                for f, b in hub.files.items()
            ]
            return self._send(200, json.dumps(tree).encode(), {"Content-Type": "application/json"}, head)
        if path.startswith(resolve):
            filename = path[len(resolve) :].split("/", 1)[1]
            if filename in hub.files:
                body = hub.files[filename]
                etag = f'"{hashlib.sha1(body).hexdigest()}"'
                return self._send(200, body, {"X-Repo-Commit": hub.sha, "ETag": etag}, head)
        return self._send(404, b'{"error": "not found"}', {"X-Error-Code": "EntryNotFound"}, head)

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
        hub.shutdown()
        hub.server_close()

"""Real PostgreSQL and Redis servers in a temporary folder on loopback, for the tests and benchmarks.

The Debian packages (`postgresql`, `redis-server`) are installed with apt when missing and this runs as root;
no system service is used: each server runs from its own folder on a free 127.0.0.1 port and is stopped after.
PostgreSQL refuses to run as root, so as root `initdb` and `pg_ctl` run as the `postgres` user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

POSTGRES_PACKAGES = ("postgresql",)
REDIS_PACKAGES = ("redis-server",)


class EngineUnavailable(RuntimeError):
    """The server's programs are not on this machine and cannot be installed here."""


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _apt_install(packages: tuple[str, ...]) -> None:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise EngineUnavailable(f"{' '.join(packages)} not installed and apt-get cannot run here (not root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(
        ["apt-get", "install", "-y", "-qq", *packages], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
        done = subprocess.run(
            ["apt-get", "install", "-y", "-qq", *packages], env=env, capture_output=True, text=True
        )
    if done.returncode != 0:
        raise EngineUnavailable(f"apt-get install {' '.join(packages)} failed: {done.stderr.strip()[-300:]}")


def postgres_bin() -> Path:
    """The folder of PostgreSQL's server programs (newest installed version), installing it when missing."""
    for attempt in range(2):
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
        if versions:
            return versions[-1].parent
        if attempt == 0:
            _apt_install(POSTGRES_PACKAGES)
    raise EngineUnavailable("PostgreSQL server programs not found under /usr/lib/postgresql")


def redis_server() -> str:
    """The redis-server program, installing it when missing."""
    found = shutil.which("redis-server")
    if found is None:
        _apt_install(REDIS_PACKAGES)
        found = shutil.which("redis-server")
    if found is None:
        raise EngineUnavailable("redis-server not found")
    return found


def _as_server_user(folder: Path) -> tuple[list[str], int | None]:
    """The command prefix that runs PostgreSQL's programs (`postgres` as root) and that user's uid."""
    if os.geteuid() != 0:
        return [], None
    user = pwd.getpwnam("postgres")
    for path in (folder, *folder.parents):
        if path == Path("/"):
            break
        with contextlib.suppress(PermissionError):
            mode = path.stat().st_mode
            if path == folder:
                os.chown(path, user.pw_uid, user.pw_gid)
            elif not mode & 0o001:  # the server user must be able to reach its folder
                os.chmod(path, mode | 0o001)
    return ["runuser", "-u", "postgres", "--"], user.pw_uid


@dataclass(frozen=True)
class PostgresServer:
    """A running PostgreSQL server; `url(db)` is a SQLAlchemy-style URL for a database on it."""

    port: int
    folder: Path
    user: str

    def url(self, database: str = "postgres", driver: str = "postgresql") -> str:
        return f"{driver}://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create database `name` and return its URL."""
        binaries = postgres_bin()
        prefix, _ = _as_server_user(self.folder)
        subprocess.run(
            [
                *prefix,
                str(binaries / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                name,
            ],
            check=True,
            capture_output=True,
        )
        return self.url(name)


@contextlib.contextmanager
def running_postgres(folder: Path | None = None, timeout: float = 60.0) -> Iterator[PostgresServer]:
    """Start PostgreSQL in `folder` (data, socket, log) on a free loopback port; stop it and keep nothing running.

    Without a `folder`: in a fresh one of the system's temporary folder, removed after. Tests use that: as root the
    server runs as `postgres`, which must be able to reach its folder through every folder above it, and pytest
    resets its own temporary root to 0700 whenever another test session starts (which made a running session's
    server PANIC at its next checkpoint: "could not open file .../pg_control: Permission denied").
    """
    if folder is None:
        with (
            tempfile.TemporaryDirectory(prefix="jdl-postgres-") as fresh,
            running_postgres(Path(fresh), timeout) as server,
        ):
            yield server
        return
    binaries = postgres_bin()
    folder.mkdir(parents=True, exist_ok=True)
    prefix, _ = _as_server_user(folder)
    user = "postgres" if prefix else pwd.getpwuid(os.geteuid()).pw_name
    data = folder / "data"
    subprocess.run(
        [
            *prefix,
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-U",
            user,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    port = free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off -c max_connections=200"
    start = [
        *prefix,
        str(binaries / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(folder / "postgres.log"),
        "-o",
        options,
    ]
    subprocess.run([*start, "-w", "-t", str(int(timeout)), "start"], check=True, capture_output=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            ready = subprocess.run(
                [str(binaries / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True
            )
            if ready.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise EngineUnavailable(
                    f"PostgreSQL did not accept connections; see {folder / 'postgres.log'}"
                )
            time.sleep(0.1)
        yield PostgresServer(port=port, folder=folder, user=user)
    finally:
        subprocess.run(
            [*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
        )


@dataclass(frozen=True)
class RedisServer:
    """A running Redis server."""

    port: int
    folder: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@contextlib.contextmanager
def running_redis(folder: Path, timeout: float = 30.0) -> Iterator[RedisServer]:
    """Start redis-server in `folder` on a free loopback port (no persistence); stop it after."""
    program = redis_server()
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = (folder / "redis.log").open("wb")
    process = subprocess.Popen(
        [
            program,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(folder),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", port), timeout=1) as sock,
            ):
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise EngineUnavailable(f"redis-server did not start; see {folder / 'redis.log'}")
            time.sleep(0.05)
        yield RedisServer(port=port, folder=folder)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()

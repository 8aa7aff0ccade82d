"""The PostgreSQL and Redis servers the scale-out tests use: real servers, on loopback, gone afterwards."""

from __future__ import annotations

import socket
import subprocess

from webui.engines import postgres_bin, running_postgres, running_redis


def test_postgres_starts_on_loopback_answers_and_stops():
    with running_postgres() as server:
        url = server.create_database("jdl")
        assert url == f"postgresql://{server.user}@127.0.0.1:{server.port}/jdl"
        out = subprocess.run(
            [str(postgres_bin() / "psql"), "-h", "127.0.0.1", "-p", str(server.port), "-U", server.user, "-d", "jdl",
             "-tAc", "select current_database(), inet_server_addr()"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert out.stdout.strip() == "jdl|127.0.0.1"
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", server.port)) != 0, "PostgreSQL still listening after the block"


def test_redis_starts_on_loopback_answers_and_stops(tmp_path):
    with running_redis(tmp_path / "redis") as server:
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(b"SET k v\r\nGET k\r\n")
            reply = b""
            while reply.count(b"\r\n") < 3:
                reply += sock.recv(64)
        assert reply == b"+OK\r\n$1\r\nv\r\n"
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", server.port)) != 0, "Redis still listening after the block"

"""The whole journey in real Chromium against the scale-out set-up: accounts on a real PostgreSQL, web-app state
on a real Redis, `start --prod` with two backend workers. Sign up, upload a genome, tick modules, run with live
progress, read the report; a second person is refused the first one's report and downloads; and the session
token never appears in Redis (the state keeps only its SHA-256).

Two run modes: "local" (the app's warm worker runs it, no Dagster services) and "queue": Dagster's storage on
the same PostgreSQL, `start` with Dagster's services (gRPC code server, daemon with the QueuedRunCoordinator and
DefaultRunLauncher, webserver), and the run and its partition `user/sample` checked through Dagster's GraphQL API.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import time

import pytest

from webui.harness import chromium_people, dagster_sees_run, follow_run, running_app, sign_up
from webui.security.cookies import SESSION_COOKIE

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(480)]


def queue_mode_env(postgres_server, database: str) -> dict[str, str]:
    """Environment of "queue" run mode: Dagster's storage in a new database on `postgres_server` (psycopg2 URL),
    its own code-server port, generous gRPC deadlines (a busy 2-core machine loads the definitions slowly)."""
    from webui.engines import free_port

    postgres_server.create_database(database)
    return {
        "JUST_DNA_RUN_MODE": "queue",
        "DAGSTER_POSTGRES_URL": postgres_server.url(database, driver="postgresql+psycopg2"),
        "JUST_DNA_CODE_SERVER_PORT": str(free_port()),
        "JUST_DNA_PIPELINES_RUN_MONITORING_INTERVAL_S": "2",
        "DAGSTER_GRPC_TIMEOUT_SECONDS": "300",
    }


@pytest.fixture(params=["local", "queue"])
def app(request, app_env, postgres_server, redis_server, tmp_path):
    """The prod web app with two backend workers over PostgreSQL (a fresh database) and Redis (emptied); in
    "queue" mode with Dagster's services started by `start` on Dagster storage in PostgreSQL too."""
    import redis

    mode = request.param
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    env = {
        **app_env,
        "DATABASE_URL": postgres_server.create_database(f"journey_{mode}"),
        "REDIS_URL": redis_server.url,
        "JUST_DNA_WEBUI_WORKERS": "2",
        "JUST_DNA_PIPELINES_MODULES_SOURCE": "demo",
    }
    if mode == "queue":
        env.update(queue_mode_env(postgres_server, "journey_dagster"))
    with running_app(env, tmp_path / "app.log", prod=True, dagster=mode == "queue") as running:
        yield running, client, redis_server.url
    client.close()


def _everything_in(client) -> list[bytes]:
    """Every key of the Redis server and every value stored under it, whatever its type."""
    found: list[bytes] = []
    for key in client.scan_iter(count=1000):
        found.append(key)
        kind = client.type(key)
        if kind == b"string":
            found.append(client.get(key) or b"")
        elif kind == b"hash":
            for field, value in client.hgetall(key).items():
                found += [field, value]
        elif kind == b"list":
            found += client.lrange(key, 0, -1)
        elif kind == b"set":
            found += list(client.smembers(key))
        elif kind == b"zset":
            found += [member for member, _ in client.zrange(key, 0, -1, withscores=True)]
        elif kind == b"stream":
            for _, fields in client.xrange(key):
                for field, value in fields.items():
                    found += [field, value]
    return found


def _backend_workers(redis_url: str) -> int:
    """How many backend worker processes the app runs: children of `reflex run` that run it again (Granian's)."""
    import psutil

    reflex_runs: dict[int, int] = {}
    for proc in psutil.process_iter(["pid", "ppid", "cmdline"]):
        with contextlib.suppress(psutil.Error):
            cmdline = proc.info["cmdline"] or []
            if (
                proc.environ().get("REDIS_URL") == redis_url
                and "run" in cmdline
                and "--single-port" in cmdline
            ):
                reflex_runs[proc.info["pid"]] = proc.info["ppid"]
    return sum(parent in reflex_runs for parent in reflex_runs.values())


def test_journey_on_postgres_and_redis_with_two_workers(app, tmp_path):
    running, client, redis_url = app
    url = running.url
    from just_dna_pipelines.modules.demo import ensure_demo_sample

    genome = ensure_demo_sample(tmp_path / "genome")
    with chromium_people(tmp_path, "alice", "bob") as people:
        alice = people["alice"].new_page()
        alice.set_default_timeout(60_000)
        started = time.monotonic()
        sign_up(alice, url, "alice", "correct horse battery")
        sign_up_s = time.monotonic() - started

        # A real upload through the widget (its key check and the streamed handler), not the demo button.
        alice.wait_for_selector("#vcf_upload[data-ready='true']")
        alice.set_input_files("#vcf_upload input[type=file]", str(genome))
        alice.wait_for_selector("#upload-ok")
        assert genome.stem in alice.inner_text("#upload-ok")
        alice.click(".sample-card")
        alice.wait_for_selector("#module-longevitymap")
        alice.click("#select-none")
        alice.wait_for_function("document.querySelector('#run-button').disabled")
        alice.click("#module-longevitymap")
        alice.click("#module-lipidmetabolism")
        alice.wait_for_function("document.querySelector('#run-button').innerText.includes('Run 2')")
        run_started = time.monotonic()
        alice.click("#run-button")
        alice.wait_for_url(re.compile(r".*/run\?id="))
        run_url = alice.url
        run_id = run_url.split("id=")[1].split("&")[0]
        live_updates = follow_run(alice)
        alice.wait_for_selector("#report-frame")
        run_s = time.monotonic() - run_started
        assert live_updates >= 1, "no progress update was pushed before the run finished"
        links = alice.eval_on_selector_all("#downloads a", "els => els.map(e => e.href)")
        assert any("longevity_report.html" in link for link in links)
        for link in links:
            assert alice.request.get(link).status == 200, link

        bob = people["bob"].new_page()
        bob.set_default_timeout(60_000)
        sign_up(bob, url, "bob", "another long secret")
        bob.wait_for_selector("#empty-samples")
        for link in [*links, links[0].split("?")[0]]:
            refused = bob.request.get(link)
            assert refused.status == 404, link
        bob.goto(run_url)
        bob.wait_for_selector("#not-found")

        # The build's content-hashed scripts are kept by the browser: a page load asks the backend for none
        # of them (it used to revalidate ~22 on every load); people's files are never kept.
        bob.goto(f"{url}/")
        bob.wait_for_selector("#empty-samples")
        fetched = bob.evaluate(
            "performance.getEntriesByType('resource').filter(e => e.name.includes('/assets/'))"
            ".map(e => [e.name, e.transferSize])"
        )
        assert fetched and all(size == 0 for _, size in fetched), fetched  # 0: from the cache, no request
        script = bob.eval_on_selector("link[rel=modulepreload][href*='/assets/']", "e => e.href")
        assert "immutable" in bob.request.get(script).headers["cache-control"]
        assert alice.request.get(links[0]).headers["cache-control"] == "no-store"

        tokens = [
            cookie["value"]
            for person in people.values()
            for cookie in person.cookies()
            if cookie["name"] == SESSION_COOKIE
        ]
    assert len(tokens) == 2
    stored = _everything_in(client)
    blob = b"\n".join(stored)
    assert len(stored) > 2, "nothing in Redis: the web-app state is not kept there"
    for token in tokens:
        assert token.encode() not in blob, "a raw session token is stored in Redis"
        # The positive control: the state is there, holding the token's digest instead.
        assert hashlib.sha256(token.encode()).hexdigest().encode() in blob
    assert SESSION_COOKIE.encode() + b"=" not in blob
    assert _backend_workers(redis_url) == 2
    if running.dagster_url:  # queue mode: Dagster ran it, and its own API shows the run and the partition
        status, run_tags, partitions = dagster_sees_run(running.dagster_url, run_id)
        assert status == "SUCCESS", (status, run_tags)
        assert run_tags["just-dna/launcher"] == "queue" and run_tags["just-dna/user"] == "alice", run_tags
        partition = run_tags["dagster/partition"]
        assert partition.startswith("alice/") and partition in partitions, (partition, partitions)
        assert any(
            "Started process for run" in line for line in _engine_messages(running.dagster_url, run_id)
        )
    print(
        f"\nscale-out journey: sign-up {sign_up_s:.1f} s, run to report {run_s:.1f} s, {live_updates} live updates"
    )


ENGINE_EVENTS = """
query Logs($runId: ID!) {
  logsForRun(runId: $runId) {
    __typename
    ... on EventConnection { events { __typename ... on MessageEvent { message } } }
  }
}
"""


def _engine_messages(dagster_url: str, run_id: str) -> list[str]:
    """The messages of a run's events as Dagster's GraphQL API gives them."""
    from webui.harness import dagster_graphql

    logs = dagster_graphql(dagster_url, ENGINE_EVENTS, {"runId": run_id})["logsForRun"]
    assert logs["__typename"] == "EventConnection", logs
    return [event.get("message") or "" for event in logs["events"]]

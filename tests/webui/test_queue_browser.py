"""Runs take turns, in real Chromium: with one run slot, a second person's run waits with its place in the
queue shown, either run can be canceled from its page (a running one stops, its staged files go), and a
canceled run can be run again."""

from __future__ import annotations

import re
import signal
import time

import pytest

from just_dna_pipelines.runs.instance import get_instance
from tests.held_runs import held_run, wait_for_pending_signal
from webui.harness import chromium_people, running_app, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture
def app(app_env, tmp_path):
    """The web app with the demo modules and a single run slot."""
    env = {
        **app_env,
        "JUST_DNA_PIPELINES_MODULES_SOURCE": "demo",
        "JUST_DNA_PIPELINES_MAX_CONCURRENT_RUNS": "1",
    }
    with running_app(env, tmp_path / "app.log") as running:
        yield running


def _status(page, wanted: str) -> None:
    page.wait_for_selector(f"#run-status[data-status='{wanted}']", timeout=120_000)


def _run(page, url: str, sample: str) -> None:
    page.goto(f"{url}/sample?name={sample}")
    page.wait_for_selector("#module-longevitymap")
    page.click("#select-none")
    page.click("#module-longevitymap")
    page.wait_for_function("document.querySelector('#run-button').innerText.includes('Run 1')")
    page.click("#run-button")
    page.wait_for_url("**/run?id=*")


def _run_state_pushes(page) -> list[float]:
    """Times at which the page's websocket received an update of the run page's state (filled as they come)."""
    times: list[float] = []

    def watch(socket) -> None:
        socket.on("framereceived", lambda frame: "run_state" in str(frame) and times.append(time.monotonic()))

    page.on("websocket", watch)
    return times


def _pushes_during(page, times: list[float], seconds: float) -> int:
    """How many run-state updates reach the page in the next `seconds`."""
    begun = time.monotonic()
    page.wait_for_timeout(seconds * 1000)
    return sum(begun <= t for t in times)


def test_a_queued_run_shows_its_place_and_runs_can_be_canceled(
    app, app_env, pipeline_env, long_vcf, tmp_path, monkeypatch
):
    from webui.config import get_web_settings
    from webui.db import _engine_for
    from webui.services import accounts, uploads

    with chromium_people(tmp_path, "alice", "bob") as people:
        alice = people["alice"].new_page()
        alice.set_default_timeout(60_000)
        sign_up(alice, app.url, "alice", "correct horse battery")
        # Alice's genome is long (5 M calls): her run holds the only slot for a while. Added here, through the
        # same upload code, to spare the browser a 190 MB upload.
        monkeypatch.setenv("DATABASE_URL", app_env["DATABASE_URL"])
        get_web_settings.cache_clear()
        _engine_for.cache_clear()
        user = accounts.log_in("alice", "correct horse battery")
        sink = uploads.UploadSink(user, "long.vcf")
        with long_vcf.open("rb") as handle:
            while chunk := handle.read(1 << 22):
                sink.write(chunk)
        sink.finish()
        _run(alice, app.url, "long")
        _status(alice, "running")

        # Her run is held (its processes stopped) while Bob queues behind it: it takes ~4 s on a fast machine,
        # less than Bob's part, and used to end before her Cancel click (the button then left the page).
        with held_run(get_instance(), alice.url.split("id=", 1)[1]) as alice_pid:
            # Her home page and sample page, opened while the run goes on, follow its status without a reload
            # (they said "running" until reloaded).
            alice_home = people["alice"].new_page()
            alice_home.goto(f"{app.url}/")
            alice_home.wait_for_selector(".sample-card .sample-status[data-status='running']")
            alice_sample = people["alice"].new_page()
            alice_sample.goto(f"{app.url}/sample?name=long")
            alice_sample.wait_for_selector("#sample-status[data-status='running']")
            alice.bring_to_front()
            bob = people["bob"].new_page()
            bob.set_default_timeout(60_000)
            bob_pushes = _run_state_pushes(bob)
            sign_up(bob, app.url, "bob", "another long secret")
            bob.wait_for_selector("#vcf_upload[data-ready='true']")
            bob.click("#demo-sample")
            bob.wait_for_selector(".sample-card")
            _run(bob, app.url, "demo_sample")
            _status(bob, "queued")
            bob.wait_for_selector("#queue-position")
            assert "position 1 (next to start)" in bob.inner_text("#queue-position")
            # A queued run's page is told what changes (its status is re-read every 2 s), not sent its state five
            # times a second.
            assert _pushes_during(bob, bob_pushes, 2.5) <= 3

            bob.click("#cancel-run")  # a queued run leaves the queue
            _status(bob, "canceled")
            assert "Canceled:" in bob.inner_text("#run-failure")
            assert bob.query_selector("#cancel-run") is None

            alice.click("#cancel-run")  # a running run stops, and its staged genotypes go with it
            wait_for_pending_signal(
                alice_pid, signal.SIGTERM
            )  # the cancel asked it to stop: it does as it goes on
        _status(alice, "canceled")
        for page in (alice_home, alice_sample):
            page.wait_for_selector("[data-status='canceled']", timeout=15_000)
        assert "canceled" in alice_sample.inner_text("#sample-status")
        staging = pipeline_env.output_dir / ".staging"
        assert not staging.is_dir() or not any(staging.iterdir())

        _run(bob, app.url, "demo_sample")  # the slot is free again: Bob's rerun goes straight through
        bob.wait_for_selector("#report-frame", timeout=120_000)
        _status(bob, "success")
        assert bob.get_attribute("#back-to-sample", "href") == "/sample?name=demo_sample"

        # Before the server has answered (here: never, its websocket is held), the run page offers no way back
        # to a sample it does not know yet (the link used to lead to "/sample?name=", a "No such sample" page).
        unanswered = people["bob"].new_page()
        unanswered.route_web_socket(re.compile(".*"), lambda socket: None)
        unanswered.goto(bob.url)
        unanswered.wait_for_selector("#run-status")
        unanswered.wait_for_timeout(500)
        assert unanswered.query_selector("#back-to-sample") is None

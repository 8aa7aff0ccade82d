"""A deletion is forgotten in every open tab of its user, live, and nothing of it stays in the server-side tab
states: in memory (one backend worker) and in Redis (lab mode, two workers, where a tab's state otherwise stays
for an hour after its last event). Real Chromium, real Redis and PostgreSQL.
"""

from __future__ import annotations

import secrets
import time

import pytest

from just_dna_pipelines.modules.demo import ensure_demo_sample
from webui.harness import chromium, running_app, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(480)]
NAME = "quokkaholder"  # distinctive: nothing else in the app's state or Redis contains it
PASSWORD = "correct horse battery"
SAMPLE = "demo_sample"


@pytest.fixture(params=["memory", "redis"])
def app(request, app_env, postgres_server, redis_server, tmp_path):
    """The prod web app: one worker with tab states in memory, or two over Redis and PostgreSQL."""
    import redis

    env = {**app_env, "JUST_DNA_PIPELINES_MODULES_SOURCE": "demo"}
    client = None
    if request.param == "redis":
        client = redis.Redis.from_url(redis_server.url)
        client.flushall()
        env |= {
            "DATABASE_URL": postgres_server.create_database(f"open_tabs_{secrets.token_hex(4)}"),
            "REDIS_URL": redis_server.url,
            "JUST_DNA_WEBUI_WORKERS": "2",
        }
    with running_app(env, tmp_path / "app.log", prod=True) as running:
        yield running.url, client
    if client is not None:
        client.close()


def _stored(client, token: str | None = None) -> bytes:
    """Every value in Redis (of one tab's keys when `token` is given), joined."""
    if client is None:
        return b""
    pattern = f"{token}_*" if token else "*"
    return b"\n".join(
        key + b"=" + (client.get(key) or b"")
        for key in client.scan_iter(match=pattern, count=1000)
        if client.type(key) == b"string"
    )


def _keys_holding(client, marker: bytes) -> list[str]:
    """The Redis keys whose string value contains `marker`, for a failure's message."""
    found = []
    for key in client.scan_iter(count=1000):
        value = client.get(key) if client.type(key) == b"string" else None
        if value and marker in value:
            at = value.index(marker)
            found.append(f"{key.decode(errors='replace')[-60:]}: ...{value[max(0, at - 80) : at + 40]!r}...")
    return found


def _token(page) -> str:
    return page.evaluate("window.sessionStorage.getItem('token')")


def _wait_until(check, what, timeout_s: float = 20.0) -> None:
    """Poll `check` until true; fail with `what` (a text, or a function making it) after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, what() if callable(what) else what
        time.sleep(0.25)


def _open_sample(page, url: str) -> None:
    page.goto(f"{url}/sample?name={SAMPLE}")
    page.wait_for_selector("#module-longevitymap")


def _signed_up_with_the_demo(browser, url: str):
    """A new tab where NAME signed up and added the demo sample."""
    page = browser.new_page()
    page.set_default_timeout(60_000)
    sign_up(page, url, NAME, PASSWORD)
    page.wait_for_selector("#vcf_upload[data-ready='true']")
    page.click("#demo-sample")
    page.wait_for_selector(".sample-card")
    return page


def test_a_deleted_sample_and_account_are_forgotten_in_every_open_tab(app, tmp_path):
    url, client = app
    with chromium(tmp_path) as browser:
        deleting = _signed_up_with_the_demo(browser, url)
        sample_tab, list_tab = browser.new_page(), browser.new_page()
        for tab in (sample_tab, list_tab):
            tab.set_default_timeout(60_000)
        _open_sample(sample_tab, url)
        list_tab.goto(f"{url}/")
        list_tab.wait_for_selector(".sample-card")
        _open_sample(deleting, url)
        others = [_token(sample_tab), _token(list_tab)]
        if client is not None:  # the control: the other tabs' states hold the sample before the deletion
            assert all(SAMPLE.encode() in _stored(client, token) for token in others)

        deleting.click("#delete-sample")
        deleting.click("#confirm-delete")
        deleting.wait_for_selector("#deleted")
        assert SAMPLE in deleting.inner_text("#deleted")
        # The other tabs are told at once, without an event of their own.
        sample_tab.wait_for_selector("#not-found", timeout=10_000)
        list_tab.wait_for_selector("#empty-samples", timeout=10_000)
        assert SAMPLE not in sample_tab.inner_text("body") and SAMPLE not in list_tab.inner_text("body")
        if client is not None:
            for token in others:
                assert SAMPLE.encode() not in _stored(client, token)
            # The deleting tab keeps its confirmation while it shows it, and forgets it once it left the page.
            assert SAMPLE.encode() in _stored(client, _token(deleting))
        deleting.click("#deleted a")
        deleting.wait_for_selector("#empty-samples")
        if client is not None:
            _wait_until(
                lambda: SAMPLE.encode() not in _stored(client),
                lambda: f"the sample stayed in Redis: {_keys_holding(client, SAMPLE.encode())}",
            )

        # The account: a sample again, shown in another tab, then the account deleted in the first.
        deleting.click("#demo-sample")
        deleting.wait_for_selector(".sample-card")
        _open_sample(sample_tab, url)
        deleting.goto(f"{url}/account")
        deleting.fill("#confirm-password", PASSWORD)
        deleting.click("#delete-account")
        deleting.wait_for_selector("#account-deleted")
        assert f"account {NAME}" in deleting.inner_text("#account-deleted")
        _wait_until(
            lambda: NAME not in sample_tab.inner_text("body") and SAMPLE not in sample_tab.inner_text("body"),
            "the other tab still shows the deleted account's user or sample",
        )
        if client is not None:
            for token in others:
                assert NAME.encode() not in _stored(client, token)
                assert SAMPLE.encode() not in _stored(client, token)
        deleting.goto(f"{url}/login")
        deleting.wait_for_selector("#name")
        if client is not None:
            _wait_until(
                lambda: NAME.encode() not in _stored(client) and SAMPLE.encode() not in _stored(client),
                lambda: (
                    "the deleted account's name or sample stayed in Redis: "
                    f"{_keys_holding(client, NAME.encode()) + _keys_holding(client, SAMPLE.encode())}"
                ),
            )


def test_two_tabs_deleting_at_once_both_finish(app, tmp_path):
    """Each deleting tab updates the other: done while holding its own tab's lock, two deletions at once waited
    for each other (for ever with tab states in memory, for the lock's expiry in Redis)."""
    url, _ = app
    with chromium(tmp_path) as browser:
        first = _signed_up_with_the_demo(browser, url)
        second_vcf = tmp_path / "second_sample.vcf"
        second_vcf.write_bytes(ensure_demo_sample(tmp_path / "genome").read_bytes())
        first.set_input_files("#vcf_upload input[type=file]", str(second_vcf))
        first.wait_for_selector("#upload-ok")
        second = browser.new_page()
        second.set_default_timeout(60_000)
        for page, sample in ((first, SAMPLE), (second, "second_sample")):
            page.goto(f"{url}/sample?name={sample}")
            page.wait_for_selector("#module-longevitymap")
            page.click("#delete-sample")
            page.wait_for_selector("#confirm-delete")
        first.click("#confirm-delete")
        second.click("#confirm-delete")
        first.wait_for_selector("#deleted", timeout=25_000)
        second.wait_for_selector("#deleted", timeout=25_000)
        first.goto(f"{url}/")
        first.wait_for_selector("#empty-samples", timeout=25_000)

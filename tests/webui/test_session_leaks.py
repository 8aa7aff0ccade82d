"""The session leaks found by the adversarial pass, attacked again in real Chromium against the running app.

1. A page served from another port of the same host must neither read the session cookie nor fetch a
   user's results from the backend with the browser's credentials, nor open the backend's websocket.
2. After logout (and without a session at all) the tab's server-side state must hold nothing of the user:
   reusing the tab's client token without the cookie receives none of her data.
"""

from __future__ import annotations

import http.server
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from webui.harness import chromium, chromium_people, free_port, log_in, log_out, running_app, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(420)]
PASSWORD = "correct horse battery"
SECRET_MARKERS = ("demo_sample", "longevity_report", "/files/alice", "longevitymap_variants")


@pytest.fixture(params=["dev", "prod"])
def app(request, app_env, tmp_path):
    """The web app with the demo modules: dev mode (frontend and backend on two ports) and prod (one port)."""
    env = {**app_env, "JUST_DNA_PIPELINES_MODULES_SOURCE": "demo"}
    with running_app(env, tmp_path / "app.log", prod=request.param == "prod") as running:
        yield running


@contextmanager
def attacker_site():
    """A page on another port of 127.0.0.1 (same site, other origin), as a hostile local app would serve."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!doctype html><title>other app</title><p>hello</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _demo_report(page, url: str) -> list[str]:
    """Add the demo sample, run all demo modules, wait for the report; return the download links."""
    page.wait_for_selector("#vcf_upload[data-ready='true']")
    page.click("#demo-sample")
    page.wait_for_selector(".sample-card")
    page.click(".sample-card")
    page.wait_for_selector("#run-button")
    page.wait_for_function("!document.querySelector('#run-button').disabled")
    page.click("#run-button")
    page.wait_for_selector("#report-frame", timeout=120_000)
    return page.eval_on_selector_all("#downloads a", "els => els.map(e => e.href)")


def test_other_origin_reads_no_cookie_fetches_nothing_and_gets_no_websocket(app, tmp_path):
    with chromium(tmp_path) as browser, attacker_site() as evil:
        page = browser.new_page()
        page.set_default_timeout(60_000)
        sign_up(page, app.url, "alice", PASSWORD)
        links = _demo_report(page, app.url)
        csv = next(link for link in links if link.split("?")[0].endswith(".csv"))
        assert page.request.get(csv).status == 200  # the owner gets it

        cookies = browser.cookies(app.backend_url)
        session = [c for c in cookies if c["name"] == "jdl_session"]
        assert session and session[0]["httpOnly"] and session[0]["sameSite"] == "Strict"
        assert "jdl_session" not in page.evaluate("document.cookie")  # not even the app's own page sees it

        other = browser.new_page()
        other.goto(evil)
        assert "jdl_session" not in other.evaluate("document.cookie")
        outcome = other.evaluate(
            """async (url) => {
                try {
                    const r = await fetch(url, {credentials: 'include'});
                    return 'read ' + r.status + ' ' + (await r.text()).slice(0, 40);
                } catch (e) { return 'blocked'; }
            }""",
            csv,
        )
        assert outcome == "blocked", outcome
        opened = other.evaluate(
            """async (base) => await new Promise((resolve) => {
                const ws = new WebSocket(base.replace('http', 'ws') + '/_event/?EIO=4&transport=websocket&token=x');
                ws.onmessage = () => { resolve('open'); ws.close(); };
                ws.onerror = () => resolve('refused');
                ws.onclose = () => resolve('refused');
                setTimeout(() => resolve('timeout'), 5000);
            })""",
            app.backend_url,
        )
        assert opened == "refused", opened
        # The backend names no foreign origin as allowed, with or without credentials.
        preflight = other.request.fetch(
            csv, method="OPTIONS", headers={"Origin": evil, "Access-Control-Request-Method": "GET"}
        )
        assert preflight.headers.get("access-control-allow-origin") in (None, "")
        plain = other.request.get(csv, headers={"Origin": evil})
        assert plain.headers.get("access-control-allow-origin") in (None, "")


def test_a_page_elsewhere_cannot_log_the_browser_into_another_account(app, app_env, tmp_path, monkeypatch):
    """Login CSRF: a page on another origin sent the browser to redeem a ticket its author had got for their own
    account; the browser was then in that account (a genome uploaded next was the attacker's)."""
    from webui.config import get_web_settings
    from webui.db import _engine_for
    from webui.services import accounts

    monkeypatch.setenv(
        "DATABASE_URL", app_env["DATABASE_URL"]
    )  # the app's own database, as its attacker's login
    get_web_settings.cache_clear()
    _engine_for.cache_clear()
    with chromium(tmp_path) as browser, attacker_site() as evil:
        page = browser.new_page()
        page.set_default_timeout(60_000)
        sign_up(page, app.url, "alice", PASSWORD)
        before = [c["value"] for c in browser.cookies(app.backend_url) if c["name"] == "jdl_session"]
        mallory = accounts.sign_up("mallory", "a different long secret")
        ticket = accounts.issue_login_ticket(mallory, app.url + "/")
        other = browser.new_page()
        other.goto(evil)
        with other.expect_navigation() as navigation:
            other.evaluate(
                "url => { window.location.href = url; }", f"{app.backend_url}/auth/enter?ticket={ticket}"
            )
        assert navigation.value is not None and navigation.value.status == 403
        after = [c["value"] for c in browser.cookies(app.backend_url) if c["name"] == "jdl_session"]
        assert after == before and before  # still alice's session
        page.reload()
        page.wait_for_selector("text=alice")
    _engine_for.cache_clear()
    get_web_settings.cache_clear()


def _frames_of(page) -> list[str]:
    """Collect every websocket frame the page receives from now on."""
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
    return frames


@pytest.mark.parametrize("app", ["dev"], indirect=True)
def test_logout_leaves_nothing_of_the_user_in_the_tab_state(app, tmp_path):
    with chromium_people(tmp_path, "alice", "thief") as people:
        browser = people["alice"]
        page = browser.new_page()
        page.set_default_timeout(60_000)
        sign_up(page, app.url, "alice", PASSWORD)
        _demo_report(page, app.url)
        run_url = page.url
        client_token = page.evaluate("window.sessionStorage.getItem('token')")
        assert client_token

        log_out(page, app.url)
        assert not [c for c in browser.cookies(app.backend_url) if c["name"] == "jdl_session"]
        # Same tab, reloaded: the websocket sends nothing of Alice's.
        frames = _frames_of(page)
        page.reload()
        page.wait_for_selector("#name")
        page.goto(run_url)
        page.wait_for_url(f"{app.url}/login")
        time.sleep(1.0)
        leaked = [m for m in SECRET_MARKERS for f in frames if m in f]
        assert frames and not leaked, leaked

        # Someone else (another browser) holding the tab's client token, but no cookie, gets nothing either.
        thief = people["thief"].new_page()
        thief.goto(f"{app.url}/login")
        thief.evaluate("(t) => window.sessionStorage.setItem('token', t)", client_token)
        stolen = _frames_of(thief)
        thief.goto(run_url)
        thief.wait_for_url(f"{app.url}/login")
        time.sleep(1.0)
        leaked = [m for m in SECRET_MARKERS for f in stolen if m in f]
        assert stolen and not leaked, leaked

        # Logging back in still works, and the tab shows Alice's data again.
        log_in(page, app.url, "alice", PASSWORD)
        page.wait_for_selector(".sample-card")


def _slow_to_check_vcf(path, records_per_member: int = 1_000_000, members: int = 80) -> None:
    """A small .vcf.gz the server takes seconds to check: one gzip member of identical records, repeated
    (concatenated members are one gzip stream; 80 M records in ~8 MB, ~12 s of checking here)."""
    import gzip

    header = (
        "##fileformat=VCFv4.2\n##reference=GRCh38\n##contig=<ID=chr1,length=248956422>\n"
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tALICE\n"
    )
    records = gzip.compress(b"chr1\t1000\trs1\tA\tG\t50\tPASS\t.\tGT\t0/1\n" * records_per_member, 1)
    with open(path, "wb") as handle:
        handle.write(gzip.compress(header.encode()))
        for _ in range(members):
            handle.write(records)


@pytest.mark.parametrize("app", ["dev"], indirect=True)
def test_an_upload_checked_after_the_tab_changed_hands_tells_the_next_user_nothing(app, app_env, tmp_path):
    genome = tmp_path / "alice_private_genome.vcf.gz"
    _slow_to_check_vcf(genome)
    published = Path(app_env["JUST_DNA_PIPELINES_INPUT_DIR"]) / "users" / "alice" / genome.name
    with chromium(tmp_path) as browser:
        page = browser.new_page()
        page.set_default_timeout(60_000)
        sign_up(page, app.url, "bob", PASSWORD)
        log_out(page, app.url)
        sign_up(page, app.url, "alice", PASSWORD)
        page.wait_for_selector("#vcf_upload[data-ready='true']")
        frames = _frames_of(page)
        with page.expect_request(lambda request: "/_upload" in request.url) as sent:
            page.set_input_files("#vcf_upload input[type=file]", str(genome))
        assert sent.value.response() is not None  # the whole file is on the server; its check runs on
        log_out(page, app.url)
        log_in(page, app.url, "bob", PASSWORD)
        since_bob = len(frames)
        assert not published.exists(), "the check ended before the tab changed hands: nothing was tested"
        deadline = time.monotonic() + 300
        while not published.exists():  # Alice's check finished (her sample is hers, whoever holds the tab)
            assert time.monotonic() < deadline, "the upload's check never finished"
            time.sleep(0.5)
        time.sleep(2.0)  # what the handler pushes after publishing
        leaked = [f[:300] for f in frames[since_bob:] if "alice_private_genome" in f]
        assert not leaked, leaked
        assert page.inner_text("#user-menu").strip().startswith("bob")
        content = page.content()
        at = content.find("alice_private_genome")
        assert at < 0, content[max(0, at - 400) : at + 200]

"""The served report runs in an opaque origin, framed or opened in a tab of its own: a script in it (a report of an
earlier version, which carries no policy of its own, with markup that got in unescaped) can neither read the app's
page nor call the app's routes with the browser's session; the report's own search and CSV export still work.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from webui.harness import chromium, running_app, sign_up
from webui.routes import file_routes
from webui.security.cookies import SESSION_COOKIE
from webui.services import accounts
from webui.services.uploads import add_demo_sample

REPORT = "longevity_report.html"
# What an injected script would try: read the app's page; open a page of the backend's (a popup escapes the sandbox)
# and fetch an owner-checked file through it with the session (the report's own policy forbids its own fetch).
PROBE = """<script>
(async () => {
  const seen = [];
  try { seen.push('parent:' + parent.document.title); } catch (e) { seen.push('parent:blocked'); }
  const file = new URL('longevitymap_variants.csv', location.href).href;
  try { seen.push('fetch:' + (await fetch(file, {credentials: 'include'})).status); }
  catch (e) { seen.push('fetch:blocked'); }
  const popup = window.open('/ping');
  let answer = null;
  for (let i = 0; i < 100 && answer === null; i++) {
    await new Promise((done) => setTimeout(done, 100));
    try {
      if (popup.location.pathname === '/ping' && popup.document.readyState === 'complete') {
        answer = await popup.fetch(file, {credentials: 'include'});
      }
    } catch (e) { break; }
  }
  seen.push('popup:' + (answer ? answer.status : 'blocked'));
  if (popup) popup.close();
  document.body.dataset.probe = seen.join('|');
})();
</script>"""


def sandbox_tokens(policy: str) -> set[str] | None:
    """The tokens of a policy's `sandbox` directive (None when it has none)."""
    for directive in policy.split(";"):
        name, *tokens = directive.split()
        if name == "sandbox":
            return set(tokens)
    return None


def test_the_served_report_is_sandboxed_without_its_origin(alice, web_env) -> None:
    """The report's policy sandboxed it only where the app framed it, and that frame granted allow-same-origin:
    opened in a tab of its own, or framed, its scripts ran as the backend's origin."""
    add_demo_sample(alice)
    reports = web_env.root / "output" / "users" / "alice" / "demo_sample" / "reports"
    reports.mkdir(parents=True)
    (reports / REPORT).write_text("<html><body>report</body></html>")
    client = TestClient(file_routes())
    client.cookies.set(SESSION_COOKIE, accounts.open_session(alice))
    response = client.get(f"/files/alice/demo_sample/{REPORT}")
    assert response.status_code == 200
    tokens = sandbox_tokens(response.headers["content-security-policy"])
    assert tokens == {"allow-scripts", "allow-downloads", "allow-popups", "allow-popups-to-escape-sandbox"}


@pytest.fixture(params=["dev", "prod"])
def app(request, app_env, tmp_path):
    """The web app with the demo modules: dev mode (frontend and backend on two ports) and prod (one origin)."""
    env = {**app_env, "JUST_DNA_PIPELINES_MODULES_SOURCE": "demo"}
    with running_app(env, tmp_path / "app.log", prod=request.param == "prod") as running:
        yield running


def _report_path(app_env: dict[str, str]) -> Path:
    """Where the run wrote alice's report."""
    return Path(app_env["JUST_DNA_PIPELINES_OUTPUT_DIR"], "users", "alice", "demo_sample", "reports", REPORT)


def _old_style_report_with_a_probe(path: Path) -> str:
    """Make the report at `path` one of an earlier version (no <meta> policy) that carries an injected script;
    return the report as it was."""
    report = path.read_text()
    html, found = re.subn(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", report)
    assert found == 1
    path.write_text(html.replace("</body>", PROBE + "</body>", 1))
    return report


def _seen(probe: str | None) -> dict[str, str]:
    """What the injected script reached: {"parent": ..., "fetch": ..., "popup": ...}."""
    return dict(item.split(":", 1) for item in (probe or "").split("|"))


def _report_works(page, report, tmp_path: Path) -> None:
    """The report's own script runs in `report` (a frame or a page): search filters, expanders open, CSV export
    downloads."""
    tmp_path.mkdir()
    expander = report.locator("button.expander").first
    expander.click()
    assert expander.get_attribute("aria-expanded") == "true"
    counter = report.locator("#f-count")
    before = counter.inner_text()
    report.locator("#f-search").fill("no such variant anywhere")
    assert counter.inner_text() != before and counter.inner_text().startswith("0 of ")
    report.locator("#f-search").fill("")
    with page.expect_download() as export:
        report.locator("#f-export").click()
    assert export.value.suggested_filename == "variants_shown.csv"
    target = tmp_path / "shown.csv"
    export.value.save_as(target)
    assert target.read_text().startswith("module,category,rsid")
    # Its links to the files beside it would go without the session (an opaque origin sends no SameSite=Strict
    # cookie): it points to the app's downloads instead.
    assert report.locator("span.files a").count() == 0
    note = report.locator("span.files").first.inner_text()
    assert "under Downloads on this report's page in the app" in note, note


def test_a_script_in_the_report_gets_neither_the_page_nor_the_session(app, app_env, tmp_path) -> None:
    """allow-scripts with allow-same-origin voided the frame's sandbox and "Open in a new tab" had none: a script
    in a report read the app's page (one origin in prod) and fetched the owner's files with her session."""
    with chromium(tmp_path) as browser:
        page = browser.new_page()
        page.set_default_timeout(60_000)
        sign_up(page, app.url, "alice", "correct horse battery")
        page.wait_for_selector("#vcf_upload[data-ready='true']")
        page.click("#demo-sample")
        page.click(".sample-card")
        page.wait_for_selector("#run-button")
        page.wait_for_function("!document.querySelector('#run-button').disabled")
        page.click("#run-button")
        page.wait_for_selector("#report-frame", timeout=120_000)
        frame = page.frame_locator("#report-frame")
        frame.locator("#f-count").wait_for()

        report = _old_style_report_with_a_probe(_report_path(app_env))
        page.reload()
        probe = frame.locator("body[data-probe]")
        probe.wait_for()
        assert _seen(probe.get_attribute("data-probe")) == {
            "parent": "blocked",
            "fetch": "blocked",
            "popup": "blocked",
        }
        with page.expect_popup() as popup:
            page.click("text=Open in a new tab")
        tab = popup.value
        tab.wait_for_selector("body[data-probe]")
        seen = _seen(tab.get_attribute("body", "data-probe"))
        assert (seen["fetch"], seen["popup"]) == ("blocked", "blocked"), seen  # its parent is itself here

        # The report as written, framed and in its own tab, still does what its script is for.
        _report_path(app_env).write_text(report)
        page.reload()
        _report_works(page, frame, tmp_path / "framed")
        tab.reload()
        _report_works(tab, tab, tmp_path / "tab")

"""What a screen reader and a keyboard get, in real Chromium: every control named, every field labelled, one main
landmark and one top heading per page, the run's status announced, scrolled boxes reachable by keyboard."""

from __future__ import annotations

import re

import pytest

from webui.harness import chromium, follow_run, running_app, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture
def offline_app(app_env, tmp_path):
    with running_app(app_env, tmp_path / "app.log") as running:
        yield running


def unnamed_controls(page) -> list[str]:
    """Lines of the page's accessibility tree that are controls without a name (`- checkbox [checked]`)."""
    tree = page.locator("body").aria_snapshot()
    return [
        line.strip()
        for line in tree.splitlines()
        if re.match(r"^\s*- (button|checkbox|textbox|combobox|link|progressbar)(\s*\[.*\])?:?$", line)
    ]


def landmarks_and_headings(page) -> tuple[int, int, int]:
    """(main landmarks, banner landmarks, top-level headings) of the page."""
    return (
        page.get_by_role("main").count(),
        page.get_by_role("banner").count(),
        page.get_by_role("heading", level=1).count(),
    )


def test_forms_checklist_and_run_page_are_named_for_assistive_technology(offline_app, tmp_path):
    url = offline_app.url
    with chromium(tmp_path) as browser:
        page = browser.new_page()
        page.set_default_timeout(60_000)

        page.goto(f"{url}/signup")
        page.wait_for_selector("#confirm")
        for label, field, complete in (
            ("User name", "name", "username"),
            ("Password", "password", "new-password"),
            ("Repeat password", "confirm", "new-password"),
        ):
            box = page.get_by_label(label, exact=True)
            assert box.get_attribute("id") == field and box.get_attribute("autocomplete") == complete
        hint = page.get_by_label("Password", exact=True).get_attribute("aria-describedby")
        assert page.inner_text(f"#{hint}") == "At least 8 characters."  # the field's hint is read out with it
        toggle = page.get_by_role("button", name=re.compile("dark|light", re.I))
        assert toggle.count() == 1  # the theme toggle has a name
        assert unnamed_controls(page) == []
        assert landmarks_and_headings(page) == (1, 1, 1)

        page.goto(f"{url}/login")
        page.wait_for_selector("#password")
        assert page.get_by_label("Password", exact=True).get_attribute("autocomplete") == "current-password"
        assert page.get_by_label("User name", exact=True).get_attribute("autocomplete") == "username"

        sign_up(page, url, "ada", "a long enough password")
        assert landmarks_and_headings(page) == (1, 1, 1)
        page.wait_for_selector("#vcf_upload[data-ready='true']")
        page.click("#demo-sample")
        page.click(".sample-card")
        page.wait_for_selector("#module-longevitymap")
        assert unnamed_controls(page) == []
        assert landmarks_and_headings(page) == (1, 1, 1)
        title = page.inner_text("label[for='module-vo2max']")
        box = page.get_by_role("checkbox", name=title, exact=True)
        assert box.get_attribute("id") == "module-vo2max" and box.get_attribute("data-state") == "checked"
        page.click("label[for='module-vo2max']")  # the title ticks its box too
        page.wait_for_function("document.querySelector('#module-vo2max').dataset.state === 'unchecked'")

        page.click("#run-button")
        page.wait_for_url(re.compile(r".*/run\?id="))
        assert page.get_attribute("#run-status", "aria-live") == "polite"  # status changes are announced
        follow_run(page)
        page.wait_for_selector("#report-frame")
        assert page.get_attribute("#log", "tabindex") == "0"  # the scrolled log box takes keyboard focus
        assert unnamed_controls(page) == []
        assert landmarks_and_headings(page) == (1, 1, 1)

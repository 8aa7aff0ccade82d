"""The login ticket's route: a ticket is redeemed only when one of the app's pages sent the browser there."""

import pytest
from starlette.testclient import TestClient

from webui.routes import file_routes
from webui.security.cookies import SESSION_COOKIE
from webui.services import accounts

APP_PAGE = "http://127.0.0.1:3000/login"


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "cross-site", "referer": "http://evil.test:9999/"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site", "referer": "http://127.0.0.1:9999/"},  # another service on this host
        {"sec-fetch-site": "none"},  # a link opened from a message, outside the browser
        {"referer": "http://evil.test/"},
        {},
    ],
    ids=[
        "other-site",
        "other-site-no-referer",
        "other-port",
        "typed-or-messaged",
        "old-browser-elsewhere",
        "nothing",
    ],
)
def test_a_ticket_sent_from_elsewhere_logs_nobody_in(alice, web_env, headers: dict[str, str]) -> None:
    """Login CSRF: a page elsewhere sent the visitor's browser to redeem a ticket its author had just got by
    logging in to their own account, and the browser was then in the attacker's account (its uploads theirs)."""
    ticket = accounts.issue_login_ticket(alice, "http://127.0.0.1:3000/")
    client = TestClient(file_routes(), base_url="http://127.0.0.1:8000")
    response = client.get("/auth/enter", params={"ticket": ticket}, headers=headers, follow_redirects=False)
    assert response.status_code == 403 and SESSION_COOKIE not in response.headers.get("set-cookie", "")
    # The app's own page (dev mode: another port of this host) still logs in, with the same ticket.
    response = client.get(
        "/auth/enter",
        params={"ticket": ticket},
        headers={"sec-fetch-site": "same-site", "referer": APP_PAGE},
        follow_redirects=False,
    )
    assert response.status_code == 303 and SESSION_COOKIE in response.headers["set-cookie"]


def test_a_ticket_from_the_apps_own_origin_logs_in(alice, web_env) -> None:
    ticket = accounts.issue_login_ticket(alice, "http://127.0.0.1:3000/")
    client = TestClient(file_routes(), base_url="http://127.0.0.1:3000")
    response = client.get(
        "/auth/enter",
        params={"ticket": ticket},
        headers={"sec-fetch-site": "same-origin"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "http://127.0.0.1:3000/"

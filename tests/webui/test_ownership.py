"""Owner checks in the service layer and on the HTTP file routes; deleting a sample and an account."""

from pathlib import Path

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from webui.db import User, db_session
from webui.routes import file_routes
from webui.security.cookies import SESSION_COOKIE
from webui.services import accounts, samples
from webui.services.errors import NotFoundError, WebError
from webui.services.uploads import add_demo_sample


def _fake_outputs(web_env, user: str, sample: str) -> None:
    """Report and module files where the pipeline writes them (their content is not what is tested here)."""
    folder = web_env.root / "output" / "users" / user / sample
    (folder / "reports").mkdir(parents=True)
    (folder / "reports" / "longevity_report.html").write_text("<html><body>rs2253363</body></html>")
    (folder / "reports" / "longevitymap_variants.csv").write_text("rsid\nrs2253363\n")


def test_other_users_samples_are_invisible(alice, bob):
    add_demo_sample(alice)
    assert [s.name for s in samples.list_samples(alice)] == ["demo_sample"]
    assert samples.list_samples(bob) == []
    for call in (samples.sample_page, samples.results, samples.output_files):
        with pytest.raises(NotFoundError):
            call(bob, "demo_sample")
    with pytest.raises(NotFoundError):
        samples.delete_sample(bob, "demo_sample")
    with pytest.raises(NotFoundError):
        samples.launch(bob, "demo_sample", ["longevitymap"])
    with pytest.raises(NotFoundError):
        samples.sample_page(alice, "../bob")
    assert samples.sample_page(alice, "demo_sample").view.status == "uploaded"


def test_the_sample_page_reads_the_owners_sample_with_its_report_and_files(alice, bob, web_env):
    add_demo_sample(alice)
    page = samples.sample_page(alice, "demo_sample")
    assert (page.view.name, page.view.status, page.runs, page.report, page.files) == (
        "demo_sample",
        "uploaded",
        [],
        None,
        {},
    )
    _fake_outputs(web_env, "alice", "demo_sample")
    page = samples.sample_page(alice, "demo_sample")
    assert page.report is not None and page.report.read_text().startswith("<html>")
    assert "longevitymap_variants.csv" in page.files
    with pytest.raises(NotFoundError):
        samples.sample_page(bob, "demo_sample")


def test_file_route_serves_only_the_owner(alice, bob, web_env):
    add_demo_sample(alice)
    _fake_outputs(web_env, "alice", "demo_sample")
    alice_token, bob_token = accounts.open_session(alice), accounts.open_session(bob)
    report = "/files/alice/demo_sample/longevity_report.html"
    csv = "/files/alice/demo_sample/longevitymap_variants.csv"
    client = TestClient(file_routes())

    assert client.get(report).status_code == 401  # no session
    client.cookies.set(SESSION_COOKIE, "forged")
    assert client.get(report).status_code == 401

    client.cookies.set(SESSION_COOKIE, alice_token)
    page = client.get(report)
    assert page.status_code == 200 and "rs2253363" in page.text
    policy = page.headers["content-security-policy"]
    # Nothing fetched, no <base> or form, and framed only by the app (a page elsewhere cannot frame a report).
    for directive in (
        "default-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'self'",
    ):
        assert directive in policy, policy
    download = client.get(csv)
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    forced = client.get(report + "?download=1")
    assert "attachment" in forced.headers["content-disposition"]
    assert client.get("/files/alice/demo_sample/..%2F..%2Fweb.db").status_code == 404
    assert client.get("/files/alice/demo_sample/missing.csv").status_code == 404

    client.cookies.set(SESSION_COOKIE, bob_token)
    for url in (report, csv, report + "?download=1"):
        refused = client.get(url)
        assert refused.status_code == 404 and "rs2253363" not in refused.text
    # Bob naming himself in the URL does not reach Alice's files either.
    assert client.get("/files/bob/demo_sample/longevity_report.html").status_code == 404

    accounts.log_out(alice_token)
    client.cookies.set(SESSION_COOKIE, alice_token)
    assert client.get(report).status_code == 401


def test_delete_sample_removes_upload_outputs_and_record(alice, web_env):
    add_demo_sample(alice)
    _fake_outputs(web_env, "alice", "demo_sample")
    deleted = samples.delete_sample(alice, "demo_sample")
    assert any("demo_sample.vcf" in d for d in deleted)
    assert any("outputs" in d for d in deleted)
    assert samples.list_samples(alice) == []
    assert not (web_env.root / "output" / "users" / "alice" / "demo_sample").exists()
    assert not list((web_env.root / "input" / "users" / "alice").glob("*.vcf"))


def test_delete_account_removes_everything_and_signs_out(alice, bob, web_env):
    add_demo_sample(alice)
    add_demo_sample(bob)
    samples.reserve_name(alice, "alices_upload")
    _fake_outputs(web_env, "alice", "demo_sample")
    token = accounts.open_session(alice)
    database = Path(web_env.database_url.removeprefix("sqlite:///"))
    with db_session() as db:
        password_hash = db.exec(select(User.password_hash).where(User.name == "alice")).one()
    assert b"alices_upload" in database.read_bytes() and password_hash.encode() in database.read_bytes()
    deleted = samples.delete_account(alice)
    assert deleted[-1].startswith("account alice")
    # Nothing of the account stays in the database file: deleted rows' bytes were left in its free pages.
    for path in database.parent.glob(database.name + "*"):
        data = path.read_bytes()
        assert b"alices_upload" not in data and password_hash.encode() not in data, path
    assert accounts.user_for_token(token) is None
    assert not (web_env.root / "input" / "users" / "alice").exists()
    assert not (web_env.root / "output" / "users" / "alice").exists()
    with pytest.raises(accounts.AuthError):
        accounts.log_in("alice", "correct horse battery")
    assert [s.name for s in samples.list_samples(bob)] == ["demo_sample"]  # others untouched
    assert accounts.sign_up("alice", "a brand new password").name == "alice"  # the name is free again


def test_launch_needs_modules(alice):
    add_demo_sample(alice)
    with pytest.raises(WebError, match="at least one module"):
        samples.launch(alice, "demo_sample", [])


def test_downloads_are_sent_with_their_real_type():
    from webui.routes import download_type

    assert download_type("ensembl_annotated.vcf.gz") == "application/gzip"
    assert download_type("ensembl_annotated.vcf.gz.tbi") == "application/octet-stream"
    assert download_type("longevitymap_variants.csv").startswith("text/csv")
    assert download_type("longevitymap_variants.parquet") == "application/vnd.apache.parquet"
    assert download_type("no-suffix") == "application/octet-stream"


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_deleting_an_account_keeps_the_login_failures_of_other_names(web_env):
    """`_` in a name is no LIKE wildcard: deleting a_____ once also cleared admin1's throttle."""

    from webui.db import LoginFailure, db_session

    wild = accounts.sign_up("a_____", "correct horse battery")
    accounts.sign_up("admin1", "another long secret")
    for name in ("a_____", "admin1"):
        with pytest.raises(accounts.AuthError, match="wrong"):
            accounts.log_in(name, "guess guess", "10.0.0.9")
    samples.delete_account(wild)
    with db_session() as db:
        keys = sorted(db.exec(select(LoginFailure.key)).all())
    assert keys == ["addr:10.0.0.9", "addr:10.0.0.9", "pair:admin1|10.0.0.9"]


def test_a_report_of_an_earlier_version_is_served_saying_where_its_files_are(alice, web_env):
    """Served sandboxed (an opaque origin, which sends no session cookie), a report's links to the module files
    beside it get "please log in". Reports rendered now say where the files are instead (report.js); those of
    earlier versions, never rendered again until the sample's next run, still linked them."""
    add_demo_sample(alice)
    folder = web_env.root / "output" / "users" / "alice" / "demo_sample" / "reports"
    folder.mkdir(parents=True)
    links = (
        'Download: <a href="longevitymap_variants.csv" download>CSV</a> · '
        '<a href="longevitymap_variants.parquet" download>Parquet</a>'
    )
    old = f"<html><body><h3>longevitymap</h3><p>3 variants. {links}</p><p>rs2253363</p></body></html>"
    (folder / "longevity_report.html").write_text(old, encoding="utf-8")
    client = TestClient(file_routes())
    client.cookies.set(SESSION_COOKIE, accounts.open_session(alice))

    page = client.get("/files/alice/demo_sample/longevity_report.html")
    assert page.status_code == 200 and "rs2253363" in page.text
    assert 'href="longevitymap_variants.csv"' not in page.text
    pointer = "Its CSV and Parquet files: under Downloads on this report's page in the app."
    assert f"3 variants. {pointer}" in page.text
    assert "sandbox" in page.headers["content-security-policy"]
    download = client.get("/files/alice/demo_sample/longevity_report.html?download=1")
    # the file itself, downloaded, is as it was written (opened from disk, its links work)
    assert download.text == old

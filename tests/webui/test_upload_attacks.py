"""Upload defects of the adversarial pass, in real Chromium against the running app: an oversize file picked in
the browser says why; crafted multi-file requests are refused as a whole; an upload without the tab's key
is refused before it reaches the app."""

from __future__ import annotations

import uuid

import pytest

from just_dna_pipelines.modules.demo import ensure_demo_sample
from webui.harness import chromium, running_app, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(420)]


@pytest.fixture
def app(app_env, tmp_path):
    """The web app with a 1 MB upload limit and the demo modules."""
    env = {**app_env, "JUST_DNA_PIPELINES_MODULES_SOURCE": "demo", "JUST_DNA_WEBUI_MAX_UPLOAD_MB": "1"}
    with running_app(env, tmp_path / "app.log") as running:
        yield running


def _multipart(parts: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body with one `files` part per (file name, content)."""
    boundary = uuid.uuid4().hex
    body = b""
    for name, content in parts:
        body += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + content
            + b"\r\n"
        )
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_upload_attacks_are_refused_with_a_message_and_leave_nothing(app, pipeline_env, tmp_path):
    demo = ensure_demo_sample(tmp_path / "demo")
    vcf = demo.read_bytes()
    with chromium(tmp_path) as browser:
        page = browser.new_page()
        page.set_default_timeout(60_000)
        sign_up(page, app.url, "alice", "correct horse battery")
        page.wait_for_selector("#vcf_upload[data-ready='true']")

        # An oversize file picked in the browser is refused there, with the reason on the page.
        big = tmp_path / "big.vcf"
        big.write_bytes(b"#" * (2 * 1024 * 1024))
        page.set_input_files("#vcf_upload input[type=file]", str(big))
        page.wait_for_selector("#upload-error")
        assert "larger than the upload limit of 1 MB" in page.inner_text("#upload-error")

        # A real upload, to learn the request the page sends.
        with page.expect_request(lambda r: "/_upload" in r.url) as sent:
            page.set_input_files("#vcf_upload input[type=file]", str(demo))
        page.wait_for_selector("#upload-ok")
        headers = {k: v for k, v in sent.value.headers.items() if k.startswith(("reflex-", "x-jdl-"))}
        assert "x-jdl-upload-key" in headers
        upload_url = sent.value.url

        def post(parts: list[tuple[str, bytes]], extra: dict[str, str]) -> int:
            body, content_type = _multipart(parts)
            return page.request.post(
                upload_url, data=body, headers={**extra, "Content-Type": content_type}
            ).status

        # Two parts named alike, and a .vcf with a .vcf.gz: refused as a whole, one clear message.
        for parts in ([("dup.vcf", vcf), ("dup.vcf", vcf)], [("pair.vcf", vcf), ("pair.vcf.gz", vcf)]):
            post(parts, headers)
            page.wait_for_function(
                "document.querySelector('#upload-error')?.innerText.includes('one file at a time')"
            )
            text = page.inner_text("#upload-error")
            assert "Integrity" not in text and "sqlite" not in text.lower()
        # Without the tab's upload key the request never reaches the app.
        keyless = {k: v for k, v in headers.items() if k != "x-jdl-upload-key"}
        assert post([("sneaky.vcf", vcf)], keyless) == 401
        assert post([("sneaky.vcf", vcf)], {**headers, "x-jdl-upload-key": "forged"}) in (200, 202)

        page.reload()
        page.wait_for_selector(".sample-card")
        names = page.eval_on_selector_all(".sample-card", "els => els.map(e => e.innerText)")
        assert len(names) == 1 and "demo_sample" in names[0]
        stored = sorted(p.name for p in (pipeline_env.input_dir / "users" / "alice").iterdir())
        assert stored == ["demo_sample.vcf"]

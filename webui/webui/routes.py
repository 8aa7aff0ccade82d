"""HTTP routes served next to Reflex's backend; each checks the session cookie it receives.

- `/auth/enter?ticket=...` trades a one-time login ticket for the HttpOnly session cookie and goes home, when
  one of the app's own pages sent the browser there.
- `/auth/logout?to=ORIGIN` drops the cookie of an ended session and goes to the login page.
- `/files/{user}/{sample}/{name}` serves one of the logged-in user's output files. The report's own download
  links are relative file names, so they resolve to this same route when the report is shown from it.
- Uploads (`/_upload`) must carry the tab's upload key (a secret the session guard gives only to a tab whose
  connection holds a live session); the upload handler checks it against its own (see `upload_keys`).
  A browser's upload request carries no cookie in dev mode (cross-origin XMLHttpRequest), hence the key.
"""

from __future__ import annotations

import re

from reflex.config import get_config
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from webui.asset_cache import AssetCaching
from webui.config import get_web_settings
from webui.security.cookies import clear_session_cookie, session_token, set_session_cookie
from webui.security.origins import allowed_origins, is_allowed_origin, navigated_from_the_app
from webui.services import accounts, samples
from webui.services.errors import NotFoundError

# The report is our own self-contained HTML: inline styles and scripts, nothing fetched from anywhere. Its inline
# script is allowed here by kind (reports of earlier versions carry no policy of their own); a report's own <meta>
# policy narrows it to the script's hash (report/render.py). Sandboxed without allow-same-origin, framed or opened
# in a tab of its own: its scripts run in an opaque origin, so none can read the app's pages or act as the backend's
# origin (which holds the session) through a same-origin window it opens.
REPORT_SANDBOX = "sandbox allow-scripts allow-downloads allow-popups allow-popups-to-escape-sandbox"
REPORT_CSP = (
    "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    f"base-uri 'none'; form-action 'none'; {REPORT_SANDBOX}"
)
SERIALIZED_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+")


# Reports of earlier versions link the module files beside them; served sandboxed (an opaque origin sends no session
# cookie) those links get "please log in", so they are replaced, as served, by the words report.js now writes there.
# The file itself is not changed (opened from disk, or downloaded, its links work).
LEGACY_FILE_LINKS = re.compile(
    r'Download: <a href="[^"<>]*" download>CSV</a> \u00b7 <a href="[^"<>]*" download>Parquet</a>'
)
FILES_ARE_UNDER_DOWNLOADS = "Its CSV and Parquet files: under Downloads on this report's page in the app."
NEW_REPORT_MARK = '<span class="files">'
MAX_REWRITTEN_REPORT_BYTES = 64 << 20  # read whole to be rewritten (a whole genome's report is a few MB)


def report_policy() -> str:
    """The served report's policy: REPORT_CSP, and framed only by the app's own pages (dev mode's are on another
    port than the backend that serves the report)."""
    origins = [origin for origin in allowed_origins() if SERIALIZED_ORIGIN.fullmatch(origin)]
    ancestors = " ".join(["'self'", *origins])
    return f"{REPORT_CSP}; frame-ancestors {ancestors}"


NO_STORE = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
UPLOAD_PATH = "/_upload"
UPLOAD_KEY_HEADER = "x-jdl-upload-key"
MAX_PENDING_UPLOADS = 10_000
# client token -> upload key its latest upload request carried (consumed by the upload handler). In process
# memory on purpose, also with several backend workers: Reflex runs a streamed upload's handler in the very
# process that receives its request (it reads the request body), so the key never has to cross workers.
upload_keys: dict[str, str] = {}


DOWNLOAD_TYPES = {
    ".gz": "application/gzip",
    ".tbi": "application/octet-stream",
    ".csi": "application/octet-stream",
    ".parquet": "application/vnd.apache.parquet",
    ".csv": "text/csv; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


def download_type(name: str) -> str:
    """The media type a download is sent with (by its last suffix; never guessed from `.vcf.gz` as a vCard)."""
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return DOWNLOAD_TYPES.get(suffix, "application/octet-stream")


def _home(origin: str | None, path: str) -> str:
    """`path` on an allowed page origin (the given one, else the first configured one): never elsewhere."""
    base = origin.rstrip("/") if origin and is_allowed_origin(origin) else allowed_origins()[0]
    return base + path


def enter(request: Request) -> Response:
    """Redeem a login ticket: set the HttpOnly session cookie and send the browser to the app's home page.

    Only when one of the app's pages sent the browser here (see `navigated_from_the_app`); the ticket is then kept.
    """
    if not navigated_from_the_app(request.headers):
        return PlainTextResponse(
            "this login link was not opened from the app; log in on its own page",
            status_code=403,
            headers=NO_STORE,
        )
    redeemed = accounts.redeem_login_ticket(request.query_params.get("ticket", ""))
    if redeemed is None:
        return PlainTextResponse(
            "this login link has expired or was used already; log in again", status_code=400, headers=NO_STORE
        )
    token, next_url = redeemed
    response = RedirectResponse(next_url, status_code=303, headers=NO_STORE)
    settings = get_web_settings()
    response.headers.append(
        "Set-Cookie", set_session_cookie(token, settings.session_seconds, settings.cookie_secure)
    )
    return response


def logout(request: Request) -> Response:
    """Drop the session cookie once its session has ended (a live session is kept: no cross-site logout)."""
    target = _home(request.query_params.get("to"), "/login")
    response = RedirectResponse(target, status_code=303, headers=NO_STORE)
    if accounts.user_for_token(session_token(request.headers.get("cookie"))) is None:
        response.headers.append("Set-Cookie", clear_session_cookie(get_web_settings().cookie_secure))
    return response


def sample_file(request: Request) -> Response:
    """One output file of the logged-in user's sample: HTML inline (for the embedded report), the rest as attachments."""
    user = accounts.user_for_token(session_token(request.headers.get("cookie")))
    if user is None:
        return PlainTextResponse("please log in", status_code=401, headers=NO_STORE)
    owner, sample, name = (request.path_params[k] for k in ("user", "sample", "name"))
    if owner != user.name:
        return PlainTextResponse("not found", status_code=404, headers=NO_STORE)
    try:
        path = samples.output_files(user, sample).get(name)
    except NotFoundError:
        path = None
    if path is None or not path.is_file():
        return PlainTextResponse("not found", status_code=404, headers=NO_STORE)
    if path.suffix == ".html" and "download" not in request.query_params:
        headers = {**NO_STORE, "Content-Security-Policy": report_policy()}
        if path.stat().st_size <= MAX_REWRITTEN_REPORT_BYTES:
            html = path.read_text(encoding="utf-8", errors="replace")
            if NEW_REPORT_MARK not in html:
                html = LEGACY_FILE_LINKS.sub(FILES_ARE_UNDER_DOWNLOADS, html)
            return Response(html, media_type="text/html; charset=utf-8", headers=headers)
        return FileResponse(path, media_type="text/html", headers=headers)
    return FileResponse(path, filename=path.name, media_type=download_type(path.name), headers=NO_STORE)


class UploadKeyCheck:
    """Refuses uploads without a tab's upload key and notes which key came with the upload of which tab."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check POSTs to the upload endpoint; pass everything else through."""
        if (
            scope["type"] == "http"
            and scope["path"].rstrip("/").endswith(UPLOAD_PATH)
            and scope["method"] == "POST"
        ):
            request = Request(scope)
            key = request.headers.get(UPLOAD_KEY_HEADER, "")
            client_token = request.headers.get("reflex-client-token", "")
            if not key or not client_token or len(key) > 128 or len(client_token) > 128:
                await PlainTextResponse("please log in", status_code=401, headers=NO_STORE)(
                    scope, receive, send
                )
                return
            if len(upload_keys) >= MAX_PENDING_UPLOADS:
                upload_keys.clear()  # keys of uploads whose handler never ran; a live tab just retries
            upload_keys[client_token] = key
        await self.app(scope, receive, send)


def file_routes() -> Starlette:
    """The Starlette app Reflex mounts its own backend under (see `App(api_transformer=...)`)."""
    routes = [
        Route("/auth/enter", enter, methods=["GET"]),
        Route("/auth/logout", logout, methods=["GET"]),
        Route("/files/{user}/{sample}/{name}", sample_file),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(UploadKeyCheck)
    app.add_middleware(AssetCaching, prefix=get_config().prepend_frontend_path("/assets/"))
    return app

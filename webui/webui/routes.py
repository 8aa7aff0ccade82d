"""HTTP routes for reports and downloads, served next to Reflex's backend; each checks session and owner."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from webui.services import accounts, samples
from webui.services.errors import NotFoundError

SESSION_COOKIE = "jdl_session"
# The report is our own static HTML; it may run its inline chart scripts but nothing else.
REPORT_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


def _owner(request: Request) -> tuple[accounts.CurrentUser, str] | Response:
    """The logged-in user and the requested sample if that user owns it, else the refusal response."""
    user = accounts.user_for_token(request.cookies.get(SESSION_COOKIE))
    if user is None:
        return PlainTextResponse("please log in", status_code=401)
    if request.path_params["user"] != user.name:
        return PlainTextResponse("not found", status_code=404)
    return user, request.path_params["sample"]


def report(request: Request) -> Response:
    """The sample's HTML report, for embedding in the app."""
    found = _owner(request)
    if isinstance(found, Response):
        return found
    try:
        path = samples.report_file(*found)
    except NotFoundError:
        path = None
    if path is None or not path.exists():
        return PlainTextResponse("no report yet", status_code=404)
    return FileResponse(
        path,
        media_type="text/html",
        headers={"Content-Security-Policy": REPORT_CSP, "Cache-Control": "no-store"},
    )


def download(request: Request) -> Response:
    """One downloadable output of the sample (report HTML, per-module CSV or Parquet), as an attachment."""
    found = _owner(request)
    if isinstance(found, Response):
        return found
    try:
        files = samples.output_files(*found)
    except NotFoundError:
        files = {}
    path = files.get(request.path_params["name"])
    if path is None or not path.exists():
        return PlainTextResponse("not found", status_code=404)
    return FileResponse(path, filename=path.name, headers={"Cache-Control": "no-store"})


def file_routes() -> Starlette:
    """The Starlette app Reflex mounts its own backend under (see `App(api_transformer=...)`)."""
    return Starlette(
        routes=[
            Route("/files/{user}/{sample}/report", report),
            Route("/files/{user}/{sample}/download/{name}", download),
        ]
    )

"""HTTP routes for reports and downloads, served next to Reflex's backend; each checks session and owner.

`/files/{user}/{sample}/{name}` serves one of the sample's output files. The report's own download links
are relative file names, so they resolve to this same route when the report is shown from it.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from webui.services import accounts, samples
from webui.services.errors import NotFoundError

SESSION_COOKIE = "jdl_session"
# The report is our own self-contained HTML: inline styles and scripts, nothing fetched from anywhere.
REPORT_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


def sample_file(request: Request) -> Response:
    """One output file of the logged-in user's sample: HTML inline (for the embedded report), the rest as attachments."""
    user = accounts.user_for_token(request.cookies.get(SESSION_COOKIE))
    if user is None:
        return PlainTextResponse("please log in", status_code=401)
    owner, sample, name = (request.path_params[k] for k in ("user", "sample", "name"))
    if owner != user.name:
        return PlainTextResponse("not found", status_code=404)
    try:
        path = samples.output_files(user, sample).get(name)
    except NotFoundError:
        path = None
    if path is None or not path.is_file():
        return PlainTextResponse("not found", status_code=404)
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    if path.suffix == ".html" and "download" not in request.query_params:
        return FileResponse(
            path, media_type="text/html", headers={**headers, "Content-Security-Policy": REPORT_CSP}
        )
    return FileResponse(path, filename=path.name, headers=headers)


def file_routes() -> Starlette:
    """The Starlette app Reflex mounts its own backend under (see `App(api_transformer=...)`)."""
    return Starlette(routes=[Route("/files/{user}/{sample}/{name}", sample_file)])

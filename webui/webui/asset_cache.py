"""Lets browsers keep the production build's scripts and styles instead of asking for each one on every page.

The frontend build names every file under `/assets/` after a hash of its content (a new build has new names),
so a browser may keep them for good. Without a caching header it asked the backend about all ~22 of them on
every page load (each answered 304, each a request through the backend's event loop), which under load made
page loads wait behind the websocket traffic of everyone else.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

IMMUTABLE = b"public, max-age=31536000, immutable"
CACHEABLE_STATUSES = (200, 304)


class AssetCaching:
    """Marks the build's content-hashed files (`<frontend path>/assets/...`) as cacheable for a year."""

    def __init__(self, app: ASGIApp, prefix: str = "/assets/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the header to successful GET/HEAD answers under the prefix; pass everything else through."""
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or not scope["path"].startswith(self.prefix)
        ):
            await self.app(scope, receive, send)
            return

        async def send_cacheable(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in CACHEABLE_STATUSES:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                message = {**message, "headers": [*headers, (b"cache-control", IMMUTABLE)]}
            await send(message)

        await self.app(scope, receive, send_cacheable)

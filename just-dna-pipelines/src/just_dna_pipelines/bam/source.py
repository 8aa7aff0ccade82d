"""Where a BAM lives (local path, file:// or http(s):// URL), how to stream its bytes, and its version."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from just_dna_pipelines.errors import BamError
from just_dna_pipelines.keys import sample_name_from_filename

HTTP_TIMEOUT_SECONDS = 30
REMOTE_SCHEMES = ("http", "https")


@dataclass(frozen=True)
class BamLocation:
    """A BAM input: the URL as the user gave it, and a local path when it is on this machine."""

    url: str
    path: Path | None

    @property
    def is_remote(self) -> bool:
        """True for http(s) URLs."""
        return self.path is None

    @property
    def name(self) -> str:
        """The file name without `.bam`, used to name output folders."""
        raw = self.path.name if self.path else urllib.parse.urlparse(self.url).path.rsplit("/", 1)[-1]
        stem = raw[:-4] if raw.lower().endswith(".bam") else raw
        return sample_name_from_filename(stem or "bam")

    @property
    def source_id(self) -> str:
        """What tells this BAM apart from others: its absolute path (symlinks resolved) or its URL."""
        return str(self.path.resolve()) if self.path is not None else self.url

    @property
    def output_name(self) -> str:
        """`<name>-<8 hex digits of source_id>`: one output folder per BAM, even when two share a file name."""
        return f"{self.name}-{hashlib.sha256(self.source_id.encode()).hexdigest()[:8]}"


def locate(url: str) -> BamLocation:
    """Parse a local path, file:// or http(s):// URL; other schemes are a BamError."""
    if not url or not url.strip():
        raise BamError("no BAM path or URL given")
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme in REMOTE_SCHEMES:
        if not parsed.netloc:
            raise BamError(f"not a valid URL: {url}")
        return BamLocation(url=url, path=None)
    if parsed.scheme == "file":
        return BamLocation(url=url, path=Path(urllib.parse.unquote(parsed.path)))
    if parsed.scheme and len(parsed.scheme) > 1:
        raise BamError(f"unsupported URL scheme {parsed.scheme!r} in {url} (use a path, file:// or https://)")
    return BamLocation(url=url, path=Path(url).expanduser())


def _http_error(url: str, exc: Exception) -> BamError:
    """A one-line BamError for a failed HTTP request."""
    if isinstance(exc, urllib.error.HTTPError):
        return BamError(f"cannot fetch {url}: HTTP {exc.code} {exc.reason}")
    reason = getattr(exc, "reason", exc)
    return BamError(f"cannot reach {url}: {reason}")


def file_version(location: BamLocation) -> str:
    """A cheap version tag (size + mtime, or ETag / Last-Modified + size) that changes when the file does."""
    if location.path is not None:
        try:
            stat = location.path.stat()
        except OSError as exc:
            raise BamError(f"no such BAM file: {location.path}") from exc
        return f"size={stat.st_size};mtime_ns={stat.st_mtime_ns}"
    request = urllib.request.Request(location.url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
            headers = response.headers
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise _http_error(location.url, exc) from exc
    etag = headers.get("ETag")
    size = headers.get("Content-Length", "?")
    if etag:
        return f"etag={etag};size={size}"
    return f"size={size};last_modified={headers.get('Last-Modified', '?')}"


def version_key(location: BamLocation, version: str) -> str:
    """A short stable hash of URL + version, for cache folders."""
    return hashlib.sha256(f"{location.url}\n{version}".encode()).hexdigest()[:16]

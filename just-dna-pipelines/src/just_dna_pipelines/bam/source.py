"""Where a BAM (or CRAM, or SAM) lives (local path, file:// or http(s):// URL), its first bytes, and its version."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from just_dna_pipelines.bam.formats import HEAD_BYTES, DetectedFormat, detect_format
from just_dna_pipelines.errors import BamError
from just_dna_pipelines.io.regular_file import not_a_regular_file
from just_dna_pipelines.keys import sample_name_from_filename

HTTP_TIMEOUT_SECONDS = 30
REMOTE_SCHEMES = ("http", "https")
# Left out of output folder names (longest first, so `x.sam.gz` becomes `x`).
ALIGNMENT_SUFFIXES = (".sam.bgz", ".sam.gz", ".cram", ".bam", ".sam")


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
    def file_name(self) -> str:
        """The last part of the path or URL path."""
        return self.path.name if self.path else urllib.parse.urlparse(self.url).path.rsplit("/", 1)[-1]

    @property
    def name(self) -> str:
        """The file name without `.bam`, `.cram`, `.sam` or `.sam.gz`, used to name output folders."""
        raw = self.file_name
        suffix = next((s for s in ALIGNMENT_SUFFIXES if raw.lower().endswith(s)), "")
        return sample_name_from_filename(raw[: len(raw) - len(suffix)] or "bam")

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
        raise BamError("no BAM, CRAM or SAM path or URL given")
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme in REMOTE_SCHEMES:
        if not parsed.netloc:
            raise BamError(f"not a valid URL: {url}")
        return BamLocation(url=url, path=None)
    if parsed.scheme == "file":
        return BamLocation(url=url, path=Path(urllib.parse.unquote(parsed.path)))
    if parsed.scheme and len(parsed.scheme) > 1:
        raise BamError(f"unsupported URL scheme in {url} (use a path, file:// or https://)")
    return BamLocation(url=url, path=Path(url).expanduser())


def http_error(url: str, exc: Exception) -> BamError:
    """A one-line BamError for a failed HTTP request."""
    if isinstance(exc, urllib.error.HTTPError):
        return BamError(f"cannot fetch {url}: HTTP {exc.code} {exc.reason}")
    reason = getattr(exc, "reason", exc)
    return BamError(f"cannot reach {url}: {reason}")


def file_version(location: BamLocation) -> str:
    """A cheap version tag (size + mtime, or ETag / Last-Modified + size) that changes when the file does."""
    if location.path is not None:
        problem = not_a_regular_file(
            location.path, str(location.path), "a BAM, CRAM or SAM file", "no such file"
        )
        if problem is not None:
            raise BamError(problem)
        stat = location.path.stat()
        return f"size={stat.st_size};mtime_ns={stat.st_mtime_ns}"
    request = urllib.request.Request(location.url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
            headers = response.headers
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise http_error(location.url, exc) from exc
    etag = headers.get("ETag")
    size = headers.get("Content-Length", "?")
    if etag:
        return f"etag={etag};size={size}"
    return f"size={size};last_modified={headers.get('Last-Modified', '?')}"


def read_head(location: BamLocation, size: int) -> bytes:
    """The first `size` bytes (all of a smaller file): one read, or one HTTP range request."""
    if location.path is not None:
        try:
            with location.path.open("rb") as handle:
                return handle.read(size)
        except FileNotFoundError as exc:
            raise BamError(f"no such file: {location.path}") from exc
        except IsADirectoryError as exc:
            raise BamError(f"{location.path} is a folder, not a BAM, CRAM or SAM file") from exc
        except OSError as exc:
            raise BamError(f"cannot read {location.path}: {exc.strerror or exc}") from exc
    request = urllib.request.Request(location.url, headers={"Range": f"bytes=0-{size - 1}"})
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
            return bytes(response.read(size))  # a server that ignores Range sends it all: read only the start
    except urllib.error.HTTPError as exc:
        if exc.code == 416:  # no byte 0 to send: the file is empty
            return b""
        raise http_error(location.url, exc) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise http_error(location.url, exc) from exc


def detect(location: BamLocation) -> DetectedFormat:
    """The input's format (BAM, CRAM or SAM), from its first bytes; anything else is a BamError naming it."""
    return detect_format(read_head(location, HEAD_BYTES), location.url)


def version_key(location: BamLocation, version: str) -> str:
    """A short stable hash of URL + version, for cache folders."""
    return hashlib.sha256(f"{location.url}\n{version}".encode()).hexdigest()[:16]

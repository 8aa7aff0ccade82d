"""Fetch a VCF from a Zenodo record or a Hugging Face dataset file into a local folder (atomically)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from just_dna_pipelines.errors import PipelineError, first_line, quoted
from just_dna_pipelines.io.atomic import atomic_path
from just_dna_pipelines.keys import InvalidKeyError, stored_sample_name
from just_dna_pipelines.settings import get_settings
from just_dna_pipelines.uploads import input_suffix, is_vcf_name

ZENODO_RECORD = re.compile(r"/(?:api/)?records?/(\d+)")
TIMEOUT_S = 30


def zenodo_api_url(url: str) -> str:
    """The record API address for a Zenodo record URL (`/records/N`, `/record/N` or `/api/records/N`)."""
    parsed = urlparse(url)
    match = ZENODO_RECORD.search(parsed.path)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc or not match:
        raise PipelineError(f"not a Zenodo record URL: {url} (expected https://zenodo.org/records/NUMBER)")
    return f"{parsed.scheme}://{parsed.netloc}/api/records/{match.group(1)}"


def _open(url: str, what: str):  # type: ignore[no-untyped-def]
    try:
        return urllib.request.urlopen(url, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        raise PipelineError(f"{what} answered HTTP {exc.code} for {url}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PipelineError(f"{what} is unreachable ({reason}) at {url}") from None


MAX_RECORD_BYTES = 4 * 1024 * 1024  # a record's JSON (Zenodo's are a few KB)


def _record(api: str) -> dict[str, Any]:
    """The record's JSON, bounded in size and checked in shape; PipelineError in one line otherwise."""
    with _open(api, "Zenodo") as response:
        data = response.read(MAX_RECORD_BYTES + 1)
    try:
        if len(data) > MAX_RECORD_BYTES:
            raise ValueError("too large")
        record = json.loads(data)
    except (ValueError, RecursionError):
        raise PipelineError(f"Zenodo did not return a record at {api}") from None
    files = record.get("files") if isinstance(record, dict) else None
    if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
        raise PipelineError(f"Zenodo did not return a record at {api}")
    return record


def _stored_name(key: str) -> str:
    """The file name a record's file is stored as: what an upload of that name would be (one line, no path)."""
    name = Path(key).name
    suffix = input_suffix(name)
    try:
        if suffix is None:
            raise InvalidKeyError("not a genome file name")
        return stored_sample_name(name, suffix) + suffix
    except InvalidKeyError as exc:
        raise PipelineError(f"Zenodo record's file {quoted(name)} cannot be stored ({exc})") from None


def download_zenodo_vcf(url: str, folder: Path) -> Path:
    """Download the (first) VCF file of a Zenodo record into `folder`; return its path.

    Bounded by the size the record states (else the VCF reading bound), so a host sending without end fills
    no disk; a download that breaks off leaves nothing.
    """
    api = zenodo_api_url(url)
    record = _record(api)
    files = [f for f in record["files"] if is_vcf_name(str(f.get("key", "")))]
    if not files:
        raise PipelineError(f"Zenodo record {api.rsplit('/', 1)[-1]} has no .vcf, .vcf.gz or .bcf file")
    entry = files[0]
    name = _stored_name(str(entry["key"]))
    links = entry.get("links") if isinstance(entry.get("links"), dict) else {}
    link = links.get("self") or links.get("content")
    if not isinstance(link, str) or not link:
        raise PipelineError(f"Zenodo record lists {name} without a download link")
    linked, asked = urlparse(str(link)), urlparse(api)
    if linked.scheme not in {"http", "https"} or linked.netloc != asked.netloc:
        # the record's own host serves its files; anything else (another host, file://) is not followed
        raise PipelineError(f"Zenodo record links {name} to {link}, not to {asked.netloc}; not downloaded")
    stated = entry.get("size")
    limit = int(get_settings().max_decompressed_gb * 1e9)
    if isinstance(stated, int) and 0 <= stated <= limit:
        limit = stated
    target = folder / name
    with _open(link, "Zenodo") as response, atomic_path(target) as tmp, tmp.open("wb") as out:
        received = 0
        while chunk := response.read(1024 * 1024):
            received += len(chunk)
            if received > limit:
                raise PipelineError(f"Zenodo sent more than the {limit:,} bytes of {name}; not kept")
            out.write(chunk)
        if isinstance(stated, int) and received != stated:
            raise PipelineError(f"Zenodo sent {received:,} of the {stated:,} bytes of {name}; not kept")
    return target


def download_hf_vcf(spec: str, folder: Path, *, token: str | None, endpoint: str, offline: bool) -> Path:
    """Download `OWNER/REPO/PATH/IN/REPO.vcf.gz` from a Hugging Face dataset into `folder`.

    The file is what the hub lists at the dataset's current commit: cut at its listed size (and the VCF reading
    bound), checked against its SHA-256 (or git blob id), and published only then. The hub client's own download
    named a cache file after the hub's ETag header (`../../x` wrote outside the cache) and kept what a server sent.
    """
    parts = spec.removeprefix("hf://").split("/", 2)
    if len(parts) < 3 or not is_vcf_name(parts[2].rsplit("/", 1)[-1]):
        raise PipelineError(f"--hf-source wants OWNER/REPO/PATH/TO/FILE.vcf.gz, got {spec}")
    from just_dna_pipelines.modules.sources import HF_REPO_PATTERN, hub_is_reachable

    repo_id, path = "/".join(parts[:2]), parts[2]
    if not HF_REPO_PATTERN.match(repo_id):
        raise PipelineError(f"--hf-source wants OWNER/REPO/PATH/TO/FILE.vcf.gz, got {quoted(spec)}")
    if offline or not hub_is_reachable(endpoint):
        raise PipelineError(f"Hugging Face ({endpoint}) is unreachable; cannot fetch {spec}")
    from just_dna_pipelines.io.hub_download import HubDownloadError, download_resumable, verify_download
    from just_dna_pipelines.io.hub_listing import hub_commit, hub_tree

    try:
        commit = hub_commit(endpoint, repo_id, None, token)
        listing = hub_tree(endpoint, repo_id, commit, path.rpartition("/")[0], token)
    except Exception as exc:  # the network edge: every hub failure becomes one clear line
        raise PipelineError(f"could not fetch {spec} from Hugging Face ({first_line(exc)})") from None
    remote = next((r for r in listing if r.path == path), None)
    if remote is None:
        raise PipelineError(f"could not fetch {spec} from Hugging Face (the dataset has no such file)")
    limit = int(get_settings().max_decompressed_gb * 1e9)
    if remote.size > limit:
        raise PipelineError(f"{spec} is {remote.size:,} bytes, more than the {limit:,} this version reads")
    settings = get_settings().model_copy(update={"hf_endpoint": endpoint, "hf_token": token})
    target = folder / Path(path).name
    try:
        with atomic_path(target) as tmp:
            download_resumable(repo_id, commit, remote, tmp, settings)
            verify_download(tmp, remote)
    except HubDownloadError as exc:
        raise PipelineError(f"could not fetch {spec} from Hugging Face ({exc})") from None
    return target

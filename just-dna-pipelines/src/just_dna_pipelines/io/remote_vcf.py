"""Fetch a VCF from a Zenodo record or a Hugging Face dataset file into a local folder (atomically)."""

from __future__ import annotations

import json
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from just_dna_pipelines.errors import PipelineError
from just_dna_pipelines.io.atomic import atomic_path
from just_dna_pipelines.uploads import is_vcf_name

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


def download_zenodo_vcf(url: str, folder: Path) -> Path:
    """Download the (first) VCF file of a Zenodo record into `folder`; return its path."""
    api = zenodo_api_url(url)
    with _open(api, "Zenodo") as response:
        try:
            record = json.load(response)
        except json.JSONDecodeError:
            raise PipelineError(f"Zenodo did not return a record at {api}") from None
    files = [f for f in record.get("files", []) if is_vcf_name(str(f.get("key", "")))]
    if not files:
        raise PipelineError(f"Zenodo record {api.rsplit('/', 1)[-1]} has no .vcf, .vcf.gz or .bcf file")
    entry = files[0]
    name = Path(str(entry["key"])).name
    link = entry.get("links", {}).get("self") or entry.get("links", {}).get("content")
    if not link:
        raise PipelineError(f"Zenodo record lists {name} without a download link")
    linked, asked = urlparse(str(link)), urlparse(api)
    if linked.scheme not in {"http", "https"} or linked.netloc != asked.netloc:
        # the record's own host serves its files; anything else (another host, file://) is not followed
        raise PipelineError(f"Zenodo record links {name} to {link}, not to {asked.netloc}; not downloaded")
    target = folder / name
    with _open(link, "Zenodo") as response, atomic_path(target) as tmp, tmp.open("wb") as out:
        shutil.copyfileobj(response, out, length=1024 * 1024)
    return target


def download_hf_vcf(spec: str, folder: Path, *, token: str | None, endpoint: str, offline: bool) -> Path:
    """Download `OWNER/REPO/PATH/IN/REPO.vcf.gz` from a Hugging Face dataset into `folder`."""
    parts = spec.removeprefix("hf://").split("/", 2)
    if len(parts) < 3 or not is_vcf_name(parts[2].rsplit("/", 1)[-1]):
        raise PipelineError(f"--hf-source wants OWNER/REPO/PATH/TO/FILE.vcf.gz, got {spec}")
    from just_dna_pipelines.modules.sources import hub_is_reachable

    if offline or not hub_is_reachable(endpoint):
        raise PipelineError(f"Hugging Face ({endpoint}) is unreachable; cannot fetch {spec}")
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError

    try:
        cached = hf_hub_download(
            repo_id="/".join(parts[:2]),
            filename=parts[2],
            repo_type="dataset",
            token=token,
            endpoint=endpoint,
        )
    except (HfHubHTTPError, OSError, ValueError) as exc:
        raise PipelineError(
            f"could not fetch {spec} from Hugging Face ({str(exc).splitlines()[0]})"
        ) from None
    target = folder / Path(parts[2]).name
    with atomic_path(target) as tmp:
        shutil.copyfile(cached, tmp)
    return target

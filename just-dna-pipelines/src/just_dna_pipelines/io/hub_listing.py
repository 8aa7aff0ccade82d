"""What a Hugging Face dataset holds at one commit, asked of the hub with every answer bounded and checked.

The hub client reads each answer whole and follows a listing's pages for as long as the server names a next one;
its snapshot download names folders and files after the hub's answers (a commit id of `../../x` or an ETag of
`../../x` wrote files outside the cache). Here a commit is 40 hex digits, an answer and a listing are bounded, and a
path is used only when every part of it is a plain name.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

COMMIT = re.compile(r"[0-9a-f]{40}")
SHA256 = re.compile(r"[0-9a-f]{64}")
# A folder or file name taken from a listing: no `..`, no separators, NUL or control characters, not hidden.
PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
MAX_ANSWER_BYTES = 16 << 20  # the hub pages its listings by 1,000 entries (~300 KB)
MAX_PAGES = 100
# The client waits for ever by default: a hub that answers slowly, or a byte at a time, is given up on.
READ_SECONDS = 10.0
ANSWER_SECONDS = 60.0
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class RemoteFile:
    """One file as the hub describes it: path in the repo, size and SHA-256 (LFS oid)."""

    path: str
    size: int
    sha256: str | None  # the LFS object id; files stored in git itself have only their blob id
    blob_id: str | None = None


def plain_path(path: str, parts: int) -> bool:
    """Whether a repo path is `parts` plain names joined by `/` (nothing a local path could be led astray by)."""
    names = path.split("/")
    return len(names) == parts and all(PLAIN_NAME.fullmatch(name) for name in names)


def _get(url: str, token: str | None, params: dict[str, str] | None = None) -> tuple[Any, str | None]:
    """One API answer as JSON, read up to MAX_ANSWER_BYTES, and the address of its next page (None: the last)."""
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    deadline = time.monotonic() + ANSWER_SECONDS
    headers = build_hf_headers(token=token)
    with get_session().stream("GET", url, headers=headers, params=params, timeout=READ_SECONDS) as response:
        hf_raise_for_status(response)
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > MAX_ANSWER_BYTES:
                raise ValueError(f"the hub's answer is larger than {MAX_ANSWER_BYTES:,} bytes")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the hub's answer took longer than {ANSWER_SECONDS:.0f} s")
        following = response.links.get("next", {}).get("url")
    return json.loads(bytes(body)), following


def hub_commit(endpoint: str, repo_id: str, revision: str | None, token: str | None) -> str:
    """The commit a branch, tag or commit of a dataset resolves to now (ValueError when the hub names no commit)."""
    url = f"{endpoint}/api/datasets/{repo_id}/revision/{quote(revision or 'main', safe='')}"
    info, _ = _get(url, token)
    sha = str(info.get("sha") or "") if isinstance(info, dict) else ""
    if not COMMIT.fullmatch(sha):  # it names a cache folder: never let the hub choose a path
        raise ValueError(f"the hub reported no valid revision ({sha[:50]!r})")
    return sha


def hub_tree(
    endpoint: str, repo_id: str, commit: str, folder: str, token: str | None, *, recursive: bool = False
) -> list[RemoteFile]:
    """The files under `folder` of a dataset at `commit`, with the sizes and checksums the hub reports."""
    url: str | None = f"{endpoint}/api/datasets/{repo_id}/tree/{commit}" + (
        "/" + quote(folder, safe="") if folder else ""
    )
    params = {"recursive": "true" if recursive else "false", "expand": "false"}
    files: list[RemoteFile] = []
    entries = 0
    for _ in range(MAX_PAGES):
        if url is None:
            return files
        page, url = _get(url, token, params)
        params = {}  # the next page's address carries them
        if not isinstance(page, list):
            raise ValueError("the hub's listing is not a list")
        entries += len(page)
        if entries > MAX_ENTRIES:
            raise ValueError(f"the hub lists more than {MAX_ENTRIES:,} entries in {folder}/")
        files += [remote for entry in page if (remote := _remote_file(entry)) is not None]
    if url is None:
        return files
    raise ValueError(f"the hub's listing of {folder}/ goes on past {MAX_PAGES} pages")


def _remote_file(entry: object) -> RemoteFile | None:
    """A listing entry as a RemoteFile (None for folders and entries that are not well formed)."""
    if not isinstance(entry, dict) or entry.get("type") != "file":
        return None
    path, size, lfs = entry.get("path"), entry.get("size"), entry.get("lfs")
    if not isinstance(path, str) or not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return None
    sha256 = lfs.get("oid") if isinstance(lfs, dict) else None
    blob_id = entry.get("oid")
    return RemoteFile(
        path,
        size,
        sha256 if isinstance(sha256, str) and SHA256.fullmatch(sha256) else None,
        blob_id if isinstance(blob_id, str) and COMMIT.fullmatch(blob_id) else None,
    )

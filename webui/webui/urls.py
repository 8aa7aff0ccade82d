"""Backend paths of a sample's output files (served by `routes.py`)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote


def file_url(user: str, sample: str, name: str) -> str:
    """The backend path of one output file of a sample."""
    return f"/files/{quote(user)}/{quote(sample)}/{quote(name)}"


def file_links(user: str, sample: str, files: dict[str, str]) -> list[dict[str, str]]:
    """Download links (relative to the backend) for a sample's outputs, report first."""
    ordered = sorted(files, key=lambda n: (not n.endswith(".html"), n))
    return [{"name": name, "href": file_url(user, sample, name) + "?download=1"} for name in ordered]


def result_links(
    user: str, sample: str, report: Path | None, files: dict[str, Path]
) -> tuple[str, list[dict[str, str]]]:
    """A sample's report URL (empty without a report) and the download links of its outputs."""
    url = file_url(user, sample, report.name) if report else ""
    return url, file_links(user, sample, {name: str(path) for name, path in files.items()})

"""One file of a dataset downloaded from a loopback hub: resumed, cut at its listed size, verified against its listed
checksum, and every refusal one line of HubDownloadError (which each caller turns into its own error)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import huggingface_hub.constants
import pytest

from just_dna_pipelines.errors import EnsemblError, PipelineError
from just_dna_pipelines.io.hub_download import (
    HubDownloadError,
    download_resumable,
    git_blob_sha1,
    verify_download,
)
from just_dna_pipelines.io.hub_listing import RemoteFile, hub_tree
from just_dna_pipelines.settings import Settings, get_settings

REPO = "someone/tables"
TABLE = "data/table.parquet"  # the loopback hub lists a SHA-256 for .parquet files, a git blob id for others
BODY = bytes(range(256)) * 40  # 10,240 bytes


@pytest.fixture
def hub(pipeline_env, monkeypatch: pytest.MonkeyPatch, fake_hub_factory):
    """A loopback hub serving one file."""
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    return fake_hub_factory(REPO, {TABLE: BODY})


def settings_for(hub) -> Settings:
    """The settings pointing at the loopback hub."""
    return get_settings().model_copy(update={"hf_endpoint": hub.endpoint, "hf_token": None})


def listed(hub) -> RemoteFile:
    """The file as the hub lists it."""
    (remote,) = hub_tree(hub.endpoint, REPO, hub.sha, "data", None)
    return remote


def resolves(hub) -> list[str]:
    """The file downloads the hub has served so far."""
    return [r for r in hub.requests if "/resolve/" in r and r.startswith("GET")]


def test_a_file_is_downloaded_whole_and_verified(hub, tmp_path: Path) -> None:
    part = tmp_path / "deep" / "table.parquet.part"
    received: list[int] = []
    download_resumable(REPO, hub.sha, listed(hub), part, settings_for(hub), received.append)
    assert part.read_bytes() == BODY and sum(received) == len(BODY)
    assert verify_download(part, listed(hub)) == hashlib.sha256(BODY).hexdigest()
    assert part.read_bytes() == BODY, "a verified file is left where it is"


def test_a_download_resumes_from_the_bytes_already_there(hub, tmp_path: Path) -> None:
    part = tmp_path / "table.parquet.part"
    part.write_bytes(BODY[:1000])
    received: list[int] = []
    download_resumable(REPO, hub.sha, listed(hub), part, settings_for(hub), received.append)
    assert part.read_bytes() == BODY
    assert hub.headers_seen[-1].get("range") == "bytes=1000-"
    assert received[0] == 1000 and sum(received) == len(BODY)


def test_a_part_longer_than_the_file_is_started_over(hub, tmp_path: Path) -> None:
    part = tmp_path / "table.parquet.part"
    part.write_bytes(b"x" * (len(BODY) + 1))
    download_resumable(REPO, hub.sha, listed(hub), part, settings_for(hub))
    assert part.read_bytes() == BODY
    assert "range" not in hub.headers_seen[-1]


@pytest.mark.timeout(60)
def test_a_server_streaming_without_end_is_cut_at_the_listed_size(hub, tmp_path: Path) -> None:
    """A server sending a contig file with no length and no end wrote 440 MB in two seconds for a 3 KB file."""
    hub.cut[TABLE] = (0, "flood")
    part = tmp_path / "table.parquet.part"
    with pytest.raises(HubDownloadError) as info:
        download_resumable(REPO, hub.sha, listed(hub), part, settings_for(hub))
    assert str(info.value) == (
        f"download of {TABLE} from {REPO} failed: the server sent more than the {len(BODY):,} bytes announced"
    )
    assert not part.exists(), "nothing of the flood is kept"


def test_a_file_larger_than_the_free_space_is_refused_before_its_download(hub, tmp_path: Path) -> None:
    huge = RemoteFile(TABLE, 1 << 60, "0" * 64)  # an exabyte: the download would fill the disk first
    with pytest.raises(HubDownloadError, match=r"needs 1,152,921,504,606,846,976 bytes, .* free") as info:
        download_resumable(REPO, hub.sha, huge, tmp_path / "table.parquet.part", settings_for(hub))
    assert str(info.value).startswith(f"{TABLE} from {REPO} needs ")
    assert resolves(hub) == []


def test_a_file_the_hub_does_not_serve_is_one_line_naming_it(hub, tmp_path: Path) -> None:
    missing = RemoteFile("data/missing.parquet", 10, "0" * 64)
    with pytest.raises(HubDownloadError) as info:
        download_resumable(REPO, hub.sha, missing, tmp_path / "missing.part", settings_for(hub))
    message = str(info.value)
    assert (
        message.startswith(f"download of data/missing.parquet from {REPO} failed: ") and "\n" not in message
    )


SHA256 = hashlib.sha256(BODY).hexdigest()


@pytest.mark.parametrize(
    ("remote", "problem"),
    [
        (RemoteFile(TABLE, len(BODY) + 1, SHA256), "size 10,240 bytes, the hub says 10,241"),
        (
            RemoteFile(TABLE, len(BODY), "0" * 64),
            f"SHA-256 {SHA256[:16]}..., the hub says 0000000000000000...",
        ),
        (
            RemoteFile(TABLE, len(BODY), None, "0" * 40),
            "git blob id differs from the hub's 0000000000000000...",
        ),
        (RemoteFile(TABLE, len(BODY), None, None), "the hub gave no checksum to verify it against"),
    ],
    ids=["size", "sha256", "blob-id", "no-checksum"],
)
def test_a_file_that_is_not_the_listed_one_is_deleted(
    tmp_path: Path, remote: RemoteFile, problem: str
) -> None:
    part = tmp_path / "table.parquet.part"
    part.write_bytes(BODY)
    with pytest.raises(HubDownloadError) as info:
        verify_download(part, remote)
    assert str(info.value) == f"checksum mismatch for {TABLE}: {problem}; nothing was published"
    assert not part.exists()


def test_a_file_stored_in_git_is_verified_by_its_blob_id(tmp_path: Path) -> None:
    part = tmp_path / "notes.txt"
    part.write_bytes(BODY)
    blob_id = git_blob_sha1(part)
    assert verify_download(part, RemoteFile("notes.txt", len(BODY), None, blob_id)) == SHA256


def test_git_blob_sha1_is_gits_blob_id(tmp_path: Path) -> None:
    (tmp_path / "hello").write_bytes(b"hello\n")
    (tmp_path / "empty").write_bytes(b"")
    assert git_blob_sha1(tmp_path / "hello") == "ce013625030ba8dba906f756967f9e9ca394464a"  # git hash-object
    assert git_blob_sha1(tmp_path / "empty") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"


def test_the_download_knows_nothing_of_ensembl() -> None:
    """Its error is its own (each caller turns it into its own), and importing it imports no Ensembl code."""
    assert issubclass(HubDownloadError, PipelineError) and not issubclass(HubDownloadError, EnsemblError)
    script = (
        "import sys, just_dna_pipelines.io.hub_download; "
        "print(sorted(m for m in sys.modules if m.startswith('just_dna_pipelines.ensembl')))"
    )
    imported = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert imported.stdout.strip() == "[]"

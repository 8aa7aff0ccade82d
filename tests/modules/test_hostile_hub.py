"""A module dataset served by a hostile or broken hub: nothing is written outside the cache, nothing unverified
is used, every answer is bounded, and what is refused is said in one line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import huggingface_hub.constants
import pytest

from just_dna_pipelines.errors import ModuleSourceError
from just_dna_pipelines.modules.hub_snapshot import MAX_FILE_BYTES
from just_dna_pipelines.modules.schema import KNOWN_MODULES
from just_dna_pipelines.modules.sources import cached_modules, module_dirs, resolve_modules_source
from just_dna_pipelines.settings import get_settings

REPO = "just-dna-seq/annotators"
SOURCE = f"hf://{REPO}"
WEIGHTS = "data/coronary/weights.parquet"


@pytest.fixture
def hub(
    isolated_settings: Path, monkeypatch: pytest.MonkeyPatch, fake_hub_factory, demo_hub_files
) -> Callable:
    """Start a loopback hub serving the demo modules (plus `extra` files) and point HF_ENDPOINT at it."""
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)

    def start(extra: dict[str, bytes] | None = None):
        server = fake_hub_factory(REPO, {**demo_hub_files, **(extra or {})})
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        get_settings.cache_clear()
        return server

    return start


def files_under(folder: Path) -> set[Path]:
    """Every file (and link) under a folder."""
    return {p for p in folder.rglob("*") if p.is_file() or p.is_symlink()}


def test_an_etag_naming_a_path_outside_the_cache_writes_nothing_there(hub, tmp_path: Path) -> None:
    """The hub client stored each file as blobs/{ETag}: an ETag of `../../../../escaped` put a module table
    beside the cache, under a name the hub chose."""
    server = hub()
    server.lie_etag[WEIGHTS] = "../../../../escaped"
    before = files_under(tmp_path)
    resolved = resolve_modules_source(SOURCE)
    assert [d.name for d in module_dirs(resolved.root)] == sorted(KNOWN_MODULES)
    outside = {p for p in files_under(tmp_path) - before if not p.is_relative_to(tmp_path / "cache")}
    assert outside == set()
    assert (resolved.root / "coronary" / "weights.parquet").read_bytes() == server.files[WEIGHTS]


def test_a_commit_naming_a_path_is_refused_and_writes_nothing(hub, tmp_path: Path) -> None:
    """A hub reporting `../../../escape` as its commit had its listing written to cache/escape.json."""
    server = hub()
    repo = server.repos[REPO]
    repo.revisions["../../../escape"] = repo.files
    repo.sha = "../../../escape"
    before = files_under(tmp_path)
    with pytest.raises(ModuleSourceError, match="reported no valid revision") as info:
        resolve_modules_source(SOURCE)
    assert "\n" not in str(info.value)
    assert files_under(tmp_path) - before == set()


def test_listed_names_that_could_lead_a_path_astray_are_not_downloaded(hub, tmp_path: Path) -> None:
    body = b"PAR1 not really"
    hostile = [
        "data/../../../escape/weights.parquet",
        "data/coronary/../../../../escape.parquet",
        "data/..\\..\\escape/weights.parquet",
        "data/a\0b/weights.parquet",
        "data/" + "x" * 300 + "/weights.parquet",
        "data/.hidden/weights.parquet",
        "data/deep/er/weights.parquet",
    ]
    server = hub({name: body for name in hostile})
    resolved = resolve_modules_source(SOURCE)
    assert [d.name for d in module_dirs(resolved.root)] == sorted(KNOWN_MODULES)
    assert not [r for r in server.requests if "/resolve/" in r and ("escape" in r or "x" * 300 in r)]
    assert {p.name for p in tmp_path.rglob("*escape*")} == set()


def test_names_that_differ_only_in_case_are_refused(hub) -> None:
    """On a case-insensitive disk (macOS, Windows) one module's table would overwrite the other's."""
    server = hub({"data/Coronary/weights.parquet": b"other"})
    with pytest.raises(ModuleSourceError, match="differ only in case"):
        resolve_modules_source(SOURCE)
    assert not [r for r in server.requests if "/resolve/" in r]


def test_a_file_larger_than_the_limit_is_refused_before_any_download(hub) -> None:
    server = hub()
    server.lie_size[WEIGHTS] = MAX_FILE_BYTES + 1
    with pytest.raises(ModuleSourceError, match=f"a module file may have {MAX_FILE_BYTES:,}"):
        resolve_modules_source(SOURCE)
    assert not [r for r in server.requests if "/resolve/" in r]


@pytest.mark.timeout(60)
def test_a_table_streamed_without_end_is_cut_and_nothing_is_published(hub, isolated_settings: Path) -> None:
    """The hub client wrote whatever a server streamed without a length, until the disk was full."""
    server = hub()
    server.cut[WEIGHTS] = (0, "flood")
    with pytest.raises(ModuleSourceError, match=r"more than the .* bytes announced"):
        resolve_modules_source(SOURCE)
    assert cached_modules(SOURCE) is None
    assert not list((isolated_settings / "hf").rglob("*.parquet"))


def test_a_table_whose_checksum_differs_from_the_listing_is_refused(hub, isolated_settings: Path) -> None:
    """The hub client published module tables without checking them against the SHA-256 the hub listed."""
    server = hub()
    server.lie_sha256[WEIGHTS] = "0" * 64
    with pytest.raises(
        ModuleSourceError, match=r"checksum mismatch for data/coronary/weights\.parquet"
    ) as info:
        resolve_modules_source(SOURCE)
    assert "\n" not in str(info.value)
    assert cached_modules(SOURCE) is None
    assert not list((isolated_settings / "hf").rglob("*.parquet"))


def test_a_revision_naming_a_path_is_refused(hub) -> None:
    hub()
    for bad in (f"{SOURCE}@../../x", f"{SOURCE}@-x", f"{SOURCE}@a/../../b"):
        with pytest.raises(ModuleSourceError, match="invalid Hugging Face source"):
            resolve_modules_source(bad)
        assert cached_modules(bad) is None


def test_a_snapshot_the_hub_client_left_is_downloaded_again_and_verified(
    hub, isolated_settings: Path
) -> None:
    """The hub client's snapshots link into blobs named after the hub's ETags and were never checked against the
    listed SHA-256: one linking a table to other bytes of the same size was used as it was."""
    server = hub()
    snapshot = isolated_settings / "hf" / f"datasets--{REPO.replace('/', '--')}" / "snapshots" / server.sha
    for name, body in server.files.items():
        blob = snapshot.parents[1] / "blobs" / name.replace("/", "_")
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(b"\0" * len(body))  # the size the hub lists, not its bytes
        (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
        (snapshot / name).symlink_to(blob)
    resolved = resolve_modules_source(SOURCE)
    for name, body in server.files.items():
        path = resolved.root.parent / name
        assert not path.is_symlink() and path.read_bytes() == body

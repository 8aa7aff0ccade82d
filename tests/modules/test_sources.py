"""Module sources: local folders (both layouts), demo, Hugging Face through a loopback hub, offline."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import huggingface_hub.constants
import polars as pl
import pytest

from just_dna_pipelines.errors import ModuleSourceError
from just_dna_pipelines.modules.demo import ensure_demo_modules
from just_dna_pipelines.modules.registry import load_module_tables
from just_dna_pipelines.modules.schema import KNOWN_MODULES
from just_dna_pipelines.modules.sources import (
    cached_modules,
    cached_snapshot,
    mark_finished,
    module_dirs,
    resolve_modules_source,
)
from just_dna_pipelines.settings import get_settings

REPO = "just-dna-seq/annotators"


def test_local_folder_of_module_folders(isolated_settings: Path, tmp_path: Path) -> None:
    shutil.copytree(ensure_demo_modules(), tmp_path / "mods")
    resolved = resolve_modules_source(str(tmp_path / "mods"))
    assert resolved.kind == "local"
    assert [d.name for d in module_dirs(resolved.root)] == sorted(KNOWN_MODULES)


def test_local_folder_with_data_subfolder(isolated_settings: Path, tmp_path: Path) -> None:
    shutil.copytree(ensure_demo_modules(), tmp_path / "dataset" / "data")
    resolved = resolve_modules_source(str(tmp_path / "dataset"))
    assert resolved.root == (tmp_path / "dataset" / "data").resolve()


def test_local_folder_problems_are_one_line(isolated_settings: Path, tmp_path: Path) -> None:
    with pytest.raises(ModuleSourceError, match="does not exist"):
        resolve_modules_source(str(tmp_path / "missing"))
    (tmp_path / "empty" / "foo").mkdir(parents=True)
    with pytest.raises(ModuleSourceError, match="no modules found"):
        resolve_modules_source(str(tmp_path / "empty"))


def test_demo_source_is_generated_once(isolated_settings: Path) -> None:
    first = resolve_modules_source("demo")
    stamp = (first.root / "longevitymap" / "weights.parquet").stat().st_mtime_ns
    second = resolve_modules_source("demo")
    assert first.kind == "demo" and second.root == first.root
    assert (second.root / "longevitymap" / "weights.parquet").stat().st_mtime_ns == stamp
    assert not [p for p in first.root.parent.iterdir() if ".tmp-" in p.name]


def test_unreachable_hub_without_cache_fails_fast_and_clearly(isolated_settings: Path) -> None:
    # The reachability probe decides (it gives up within 0.8 s) instead of the hub client's >20 s retries.
    with pytest.raises(ModuleSourceError) as info:
        resolve_modules_source(f"hf://{REPO}")
    message = str(info.value)
    assert "unreachable" in message and REPO in message and "not cached" in message
    assert "--modules-source demo" in message and "\n" not in message


def test_hf_offline_flag_without_cache(isolated_settings: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    get_settings.cache_clear()
    with pytest.raises(
        ModuleSourceError, match="HF_HUB_OFFLINE is set and just-dna-seq/annotators is not cached"
    ):
        resolve_modules_source(f"hf://{REPO}")


def test_bad_hf_spec(isolated_settings: Path) -> None:
    with pytest.raises(ModuleSourceError, match="expected hf://OWNER/REPO"):
        resolve_modules_source("hf://not a repo")


def test_download_from_loopback_hub_then_use_cache_offline(
    isolated_settings: Path, monkeypatch: pytest.MonkeyPatch, fake_hub_factory, demo_hub_files
) -> None:
    # The hub client reads HF_HUB_OFFLINE once at import; make sure a CI-wide setting does not leak in.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    hub = fake_hub_factory(REPO, demo_hub_files)
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    get_settings.cache_clear()

    resolved = resolve_modules_source(f"hf://{REPO}")
    assert resolved.kind == "hf" and resolved.revision == hub.sha
    assert resolved.root.is_relative_to(isolated_settings / "hf")
    assert [d.name for d in module_dirs(resolved.root)] == sorted(KNOWN_MODULES)
    weights, annotations, studies = load_module_tables(resolved.root, "longevitymap")
    assert weights.height == 13 and annotations.height == 6 and studies.height == 12
    assert any(r.startswith("GET /api/datasets/") for r in hub.requests)

    # The hub goes away: the cached snapshot still resolves, quickly, and says it is offline.
    hub.shutdown()
    hub.server_close()
    cached = resolve_modules_source(f"hf://{REPO}")
    assert cached.root == resolved.root and "cached, offline" in cached.label

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    get_settings.cache_clear()
    assert resolve_modules_source(f"hf://{REPO}").root == resolved.root


def test_hub_error_is_one_line(
    isolated_settings: Path, monkeypatch: pytest.MonkeyPatch, fake_hub_factory, demo_hub_files
) -> None:
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    hub = fake_hub_factory("someone/else", demo_hub_files)
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    get_settings.cache_clear()
    with pytest.raises(ModuleSourceError) as info:
        resolve_modules_source(f"hf://{REPO}")
    assert "\n" not in str(info.value) and REPO in str(info.value)


def test_a_reader_while_a_new_revision_downloads_uses_the_last_whole_one(
    isolated_settings: Path, monkeypatch: pytest.MonkeyPatch, fake_hub_factory, tmp_path: Path, demo_hub_files
) -> None:
    """The hub client pointed refs/main at a new commit before its files were there: a reader meanwhile (the asset
    graph, an offline run) found some modules of it, or a module's tables missing. A snapshot is now published
    whole, and refs/main moved after it."""
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_DOWNLOAD_TIMEOUT", 90)
    first_files = demo_hub_files
    hub = fake_hub_factory(REPO, first_files)
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    get_settings.cache_clear()
    first = resolve_modules_source(f"hf://{REPO}")

    # The next revision: the same tables written again (other bytes), one of them held mid-download.
    second_files = {}
    for name, body in first_files.items():
        (tmp_path / "t.parquet").write_bytes(body)
        pl.read_parquet(tmp_path / "t.parquet").write_parquet(
            tmp_path / "u.parquet", compression="uncompressed"
        )
        second_files[name] = (tmp_path / "u.parquet").read_bytes()
    second_sha = hub.publish(second_files)
    stalled = "data/vo2max/weights.parquet"
    hub.cut[stalled] = (10, "stall")
    downloaded: dict[str, object] = {}
    download = threading.Thread(target=lambda: downloaded.update(r=resolve_modules_source(f"hf://{REPO}")))
    download.start()
    deadline = time.monotonic() + 60
    while stalled in hub.cut and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stalled not in hub.cut  # the new revision is downloading, held part-way
    ref = isolated_settings / "hf" / f"datasets--{REPO.replace('/', '--')}" / "refs" / "main"
    assert ref.read_text().strip() == first.revision

    seen = cached_modules(f"hf://{REPO}")
    assert (
        seen is not None and seen.revision == first.revision
    )  # the last whole snapshot, not the one arriving
    assert [d.name for d in module_dirs(seen.root)] == sorted(KNOWN_MODULES)
    assert load_module_tables(seen.root, "vo2max")[0].height > 0

    hub.release.set()
    download.join(timeout=120)
    assert downloaded["r"].revision == second_sha  # type: ignore[attr-defined]
    now = cached_modules(f"hf://{REPO}")
    assert now is not None and now.revision == second_sha


def _snapshot(cache: Path, commit: str, ref: str | None = None) -> None:
    """A cached snapshot of the dataset in the hub cache's layout (one module table), and a ref naming it."""
    repo = cache / f"datasets--{REPO.replace('/', '--')}"
    (repo / "snapshots" / commit / "data" / "vo2max").mkdir(parents=True)
    shutil.copy(
        ensure_demo_modules() / "vo2max" / "weights.parquet", repo / "snapshots" / commit / "data" / "vo2max"
    )
    if ref is not None:
        (repo / "refs").mkdir(exist_ok=True)
        (repo / "refs" / ref).write_text(commit)


def test_finished_marks_steer_main_alone(isolated_settings: Path) -> None:
    """A pinned revision (commit or tag) never moves: it is read as cached, marks or not; `@main` is `main`."""
    cache = isolated_settings / "hf"
    pinned, previous, arriving = "a" * 40, "b" * 40, "c" * 40
    _snapshot(cache, pinned, ref="v1")
    _snapshot(cache, previous)
    mark_finished(cache, REPO, previous)
    _snapshot(cache, arriving, ref="main")  # main moved on; its download has not finished
    for revision in (None, "main"):
        assert cached_snapshot(cache, REPO, revision).name == previous  # type: ignore[union-attr]
    assert cached_snapshot(cache, REPO, pinned).name == pinned  # type: ignore[union-attr]
    assert cached_snapshot(cache, REPO, "v1").name == pinned  # type: ignore[union-attr]
    mark_finished(cache, REPO, arriving)
    assert cached_snapshot(cache, REPO, None).name == arriving  # type: ignore[union-attr]

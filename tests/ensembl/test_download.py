"""The Ensembl reference download through a loopback hub: verified publishing, resume, checksum refusal, offline."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from just_dna_pipelines.ensembl.cache import ensure_reference, observe_revision
from just_dna_pipelines.errors import EnsemblError
from just_dna_pipelines.settings import get_settings

REPO = "just-dna-seq/ensembl_variations"
CHR21 = "data/homo_sapiens-chr21.parquet"


def resolves(hub) -> list[str]:
    """The file downloads the hub has served so far."""
    return [r for r in hub.requests if "/resolve/" in r and r.startswith("GET")]


def test_download_publishes_verified_files_and_then_uses_the_cache(
    ensembl_hub, cache_root: Path, make_reference
) -> None:
    hub = ensembl_hub(make_reference({"21": 50, "22": 40}))
    reference = ensure_reference(contigs=["21"])
    assert reference.kind == "hf" and reference.revision == hub.sha and reference.downloaded == ["21"]
    assert list(reference.files) == ["21"]
    assert reference.files["21"].read_bytes() == hub.files[CHR21]
    assert reference.facts()["rows"] == 50 and reference.facts()["bytes"] == len(hub.files[CHR21])
    meta = json.loads((cache_root / hub.sha / "meta" / "homo_sapiens-chr21.json").read_text())
    assert meta["rows"] == 50 and len(meta["sha256"]) == 64
    assert [r.rsplit("/", 1)[-1] for r in resolves(hub)] == ["homo_sapiens-chr21.parquet"]
    assert not list((cache_root / ".partial").rglob("*.part"))

    served = len(hub.requests)
    again = ensure_reference(contigs=["chr21"])
    assert again.files == reference.files and again.downloaded == []
    assert len(hub.requests) == served, "a cached contig at the pinned revision needs no network"


def test_a_checksum_mismatch_is_refused_and_nothing_is_published(
    ensembl_hub, cache_root: Path, make_reference
) -> None:
    hub = ensembl_hub(make_reference({"21": 30}))
    hub.lie_sha256[CHR21] = "0" * 64
    with pytest.raises(EnsemblError) as info:
        ensure_reference(contigs=["21"])
    message = str(info.value)
    assert "checksum mismatch" in message and "nothing was published" in message and "\n" not in message
    assert not (cache_root / hub.sha / "data").exists()
    assert not list(cache_root.rglob("*.part"))

    del hub.lie_sha256[CHR21]  # the hub fixed its record: the next try downloads afresh and succeeds
    assert ensure_reference(contigs=["21"]).files["21"].read_bytes() == hub.files[CHR21]


def test_a_dropped_connection_is_retried_within_the_call(
    ensembl_hub, cache_root: Path, make_reference
) -> None:
    hub = ensembl_hub(make_reference({"21": 30}))
    hub.cut[CHR21] = (100, "close")  # the server drops the connection mid-body
    reference = ensure_reference(contigs=["21"])
    assert reference.files["21"].read_bytes() == hub.files[CHR21]
    assert len(resolves(hub)) == 2


DOWNLOAD_SCRIPT = (
    "from just_dna_pipelines.cli import main; raise SystemExit(main(['download-ensembl', '--contigs', '21']))"
)


def test_an_interrupted_download_resumes_where_it_stopped(ensembl_hub, cache_root: Path, make_contig) -> None:
    big = make_contig("21", 160_000, padding=96)  # > 10 MB: the client writes in 10 MB blocks
    hub = ensembl_hub({CHR21: big})
    hub.cut[CHR21] = (11 * 1024 * 1024, "stall")
    child = subprocess.Popen(
        [sys.executable, "-c", DOWNLOAD_SCRIPT],
        env=os.environ | {"PYTHONDONTWRITEBYTECODE": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    part = cache_root / ".partial" / hub.sha / "homo_sapiens-chr21.parquet.part"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and child.poll() is None:
            if part.is_file() and part.stat().st_size > 0:
                break
            time.sleep(0.05)
        assert child.poll() is None, "the download ended before it was interrupted"
        os.killpg(child.pid, signal.SIGKILL)  # kill -9 mid-download
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    kept = part.stat().st_size
    assert 0 < kept < len(big)
    assert not (cache_root / hub.sha / "data" / "homo_sapiens-chr21.parquet").exists()

    hub.release.set()
    reference = ensure_reference(contigs=["21"])
    assert reference.files["21"].read_bytes() == big
    assert hub.headers_seen[-1].get("range") == f"bytes={kept}-"
    assert not part.exists()


def test_offline_without_a_cache_is_one_clear_line_in_under_a_second(pipeline_env) -> None:
    started = time.perf_counter()
    with pytest.raises(EnsemblError) as info:
        ensure_reference(contigs=["21"])
    assert time.perf_counter() - started < 1.0
    message = str(info.value)
    assert "unreachable" in message and REPO in message and "not cached" in message and "\n" not in message


def test_a_hub_that_never_answers_is_offline_within_the_probe(
    pipeline_env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A silent network (connection attempts dropped, as by a firewall) is told apart by the one-second probe,
    not by the hub client's own timeouts. Stand-in: a loopback port whose accept queue is full, so the kernel
    drops further connection attempts."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(0)
        port = silent.getsockname()[1]
        fillers = [socket.socket() for _ in range(3)]
        for filler in fillers:
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
        get_settings.cache_clear()
        started = time.perf_counter()
        try:
            with pytest.raises(EnsemblError) as info:
                ensure_reference(contigs=["21"])
        finally:
            for filler in fillers:
                filler.close()
        assert time.perf_counter() - started < 5.0  # a hang guard: the probe gives up after a second
        message = str(info.value)
        assert f"http://127.0.0.1:{port}) is unreachable" in message and "not cached" in message


def test_offline_uses_the_cached_revision_and_names_what_is_missing(
    ensembl_hub, monkeypatch: pytest.MonkeyPatch, make_reference
) -> None:
    hub = ensembl_hub(make_reference({"21": 20, "22": 20}))
    online = ensure_reference(contigs=["21"])
    hub.shutdown()
    hub.server_close()
    offline = ensure_reference(contigs=["21"])
    assert offline.offline and offline.revision == online.revision and offline.files == online.files
    assert observe_revision().revision == online.revision and observe_revision().offline
    with pytest.raises(EnsemblError, match=r"unreachable and chr22 of .* is not cached"):
        ensure_reference(contigs=["22"])
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    get_settings.cache_clear()
    with pytest.raises(EnsemblError, match="HF_HUB_OFFLINE is set and chr22"):
        ensure_reference(contigs=["22"])


def test_hf_token_is_sent(ensembl_hub, monkeypatch: pytest.MonkeyPatch, make_reference) -> None:
    hub = ensembl_hub(make_reference({"21": 10}))
    hub.token = "hf_test_token"
    with pytest.raises(EnsemblError) as info:
        ensure_reference(contigs=["21"])
    assert "\n" not in str(info.value)
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    get_settings.cache_clear()
    assert ensure_reference(contigs=["21"]).revision == hub.sha
    assert hub.headers_seen[-1]["authorization"] == "Bearer hf_test_token"


def test_a_new_revision_is_fetched_only_when_asked(ensembl_hub, cache_root: Path, make_reference) -> None:
    hub = ensembl_hub(make_reference({"21": 10}))
    first = ensure_reference(contigs=["21"])
    second_sha = hub.publish(make_reference({"21": 12}, seed=1))
    assert observe_revision().revision == second_sha
    assert ensure_reference(contigs=["21"]).revision == first.revision  # pinned until updated
    updated = ensure_reference(contigs=["21"], update=True)
    assert updated.revision == second_sha and updated.rows() == 12
    assert (cache_root / "refs" / "main").read_text().strip() == second_sha
    assert first.files["21"].is_file(), "the older revision stays usable"


def test_unknown_contig_and_missing_file(ensembl_hub, make_reference) -> None:
    ensembl_hub(make_reference({"21": 10}))
    with pytest.raises(EnsemblError, match="has no file for chr22"):
        ensure_reference(contigs=["22"])


def test_local_folder_source(pipeline_env, tmp_path: Path, make_reference) -> None:
    folder = tmp_path / "ref"
    for name, body in make_reference({"21": 5, "X": 7}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(body)
    reference = ensure_reference(str(folder))
    assert reference.kind == "local" and list(reference.files) == ["21", "X"]
    assert reference.revision.startswith("local-") and reference.rows() == 12
    assert observe_revision(str(folder)).revision == reference.revision
    with pytest.raises(EnsemblError, match="has no file for chr1 "):
        ensure_reference(str(folder), contigs=["1"])
    with pytest.raises(EnsemblError, match="does not exist"):
        ensure_reference(str(tmp_path / "nowhere"))
    fifo = folder / "data" / "homo_sapiens-chrY.parquet"  # a FIFO blocked the run's read for good
    os.mkfifo(fifo)
    with pytest.raises(EnsemblError, match="not a regular file"):
        ensure_reference(str(folder))


def test_hub_answers_cannot_choose_cache_paths(ensembl_hub, make_reference, monkeypatch) -> None:
    hub = ensembl_hub(make_reference({"21": 5}))
    hub.repos[REPO].revisions["../../escape"] = hub.files  # a hub claiming a path as its commit
    hub.repos[REPO].sha = "../../escape"
    with pytest.raises(EnsemblError, match="reported no valid revision"):
        ensure_reference(contigs=["21"])
    for bad in ("hf://just-dna-seq/ensembl_variations@../x", "hf://just-dna-seq/ensembl_variations@-x"):
        with pytest.raises(EnsemblError, match="invalid Ensembl source"):
            ensure_reference(bad, contigs=["21"])


@pytest.mark.timeout(60)
def test_a_server_streaming_without_end_is_cut_at_the_announced_size(
    ensembl_hub, cache_root: Path, make_reference
) -> None:
    """A server sending a contig file with no length and no end wrote 440 MB in two seconds for a 3 KB file."""
    hub = ensembl_hub(make_reference({"21": 30}))
    hub.cut[CHR21] = (0, "flood")
    with pytest.raises(EnsemblError) as info:
        ensure_reference(contigs=["21"])
    message = str(info.value)
    assert f"more than the {len(hub.files[CHR21]):,} bytes announced" in message and "\n" not in message
    assert not (cache_root / hub.sha / "data").exists()
    assert not list(cache_root.rglob("*.part")), "nothing of the flood is kept"


def test_a_file_larger_than_the_free_space_is_refused_before_its_download(
    ensembl_hub, cache_root: Path, make_reference
) -> None:
    hub = ensembl_hub(make_reference({"21": 30}))
    hub.lie_size[CHR21] = 1 << 60  # an exabyte: the download would fill the disk first
    with pytest.raises(EnsemblError, match=r"needs 1,152,921,504,606,846,976 bytes, .* free"):
        ensure_reference(contigs=["21"])
    assert resolves(hub) == [] and not (cache_root / hub.sha / "data").exists()


@pytest.mark.timeout(60)
def test_a_listing_that_pages_without_end_is_refused(ensembl_hub, make_reference) -> None:
    """A hub naming each page of its listing as the next one was followed for good."""
    from just_dna_pipelines.io.hub_listing import MAX_PAGES

    hub = ensembl_hub(make_reference({"21": 5}))
    hub.endless_tree = True
    with pytest.raises(EnsemblError, match=f"goes on past {MAX_PAGES} pages"):
        ensure_reference(contigs=["21"])
    assert len([r for r in hub.requests if "/tree/" in r]) == MAX_PAGES

"""A sample normalized ahead, in a process of its own, while the command that will ask for it starts Dagster.

`pipelines annotate-modules` spends its first second on one core importing Dagster and starting the run; the
normalization its run will ask for (reading the genome at the module sites, or all of it) is done meanwhile on
the other core by a child process running the very same `normalize_sample` call (a thread would share the
GIL with Dagster's imports: tried, no gain). The run's normalize step takes the child's table only when it asks
for exactly what the child was asked: the same file, unchanged since the child started (io/file_version.py),
the same sample, filters and reading mode, and the same module sites (compared by digest: the step reads them
again, and rsID-only sites an Ensembl reference placed make them differ). Anything else, or a child that
failed, and the step normalizes as it always does (raising the error itself).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import polars as pl

from just_dna_pipelines.annotation.sample_table import SampleTable, normalize_sample
from just_dna_pipelines.io.file_version import file_version, file_version_with_ends
from just_dna_pipelines.io.vcf_filters import VcfFilters

AHEAD_FOLDER = "normalized-ahead"  # in the command's run staging folder
TABLE_FILE = "variants.parquet"
RESULT_FILE = "result.json"
REQUEST_FILE = "request.json"
# the user/sample the table is of: a command killed once its child made the table leaves it behind (until the
# stale-staging sweep), and deleting the sample finds it by this (`remove_left_for`)
SAMPLE_FILE = "sample.key"
PARENT_CHECK_S = 0.2  # how often the child checks that the command that started it is still there
WAIT_TICK_S = 0.1  # the longest a Ctrl-C waits while the step waits for the child


@dataclass(frozen=True)
class AheadRequest:
    """What the run's normalize step will be asked, as the child takes it (plain data, passed as JSON)."""

    path: str  # resolved
    modules_root: str
    sample_column: str | None
    passing_filters: tuple[str, ...] | None
    min_depth: int | None
    min_quality: float | None
    read_sites: bool

    def filters(self) -> VcfFilters:
        return VcfFilters(self.passing_filters, self.min_depth, self.min_quality)


@dataclass
class _Ahead:
    request: AheadRequest
    workdir: Path
    child: subprocess.Popen


_lock = threading.Lock()
_started: dict[AheadRequest, _Ahead] = {}


def request_for(
    path: Path,
    modules_root: Path,
    *,
    sample_column: str | None,
    filters: VcfFilters,
    read_sites: bool,
) -> AheadRequest:
    """The request a normalize step makes, as a key (the same for the command and the step)."""
    return AheadRequest(
        str(path.resolve()),
        str(modules_root.resolve()),
        sample_column,
        filters.passing_filters,
        filters.min_depth,
        filters.min_quality,
        read_sites,
    )


def sites_digest(module_sites: pl.DataFrame) -> str:
    """A digest of the module sites (order-free): what the table was read at and the build checked against."""
    columns = ["rsid", "chrom", "start", "ref"]  # any may be null (an rsID-only site has no position)
    rows = module_sites.select(columns).sort(columns, nulls_last=True).iter_rows()
    return hashlib.blake2b(repr(list(rows)).encode(), digest_size=16).hexdigest()


def start_normalize_ahead(request: AheadRequest, workdir: Path, *, sample: str | None = None) -> None:
    """Start normalizing in a child process that writes into `workdir` (made here, removed by `discard`), for the
    `sample` (its user/sample key) the run is of.

    The child's temporary files go inside `workdir` too (TMPDIR), so removing it leaves nothing behind even
    when the child was killed mid-read. It runs in a session of its own: a Ctrl-C stops the command, whose
    clean-up stops the child (and a command gone without clean-up is noticed by the child itself).
    """
    discard(request)  # one child per request
    try:
        (workdir / "tmp").mkdir(parents=True, exist_ok=True)
        (workdir / REQUEST_FILE).write_text(json.dumps(asdict(request)))  # not on a command line `ps` shows
        if sample is not None:
            (workdir / SAMPLE_FILE).write_text(sample)
        child = subprocess.Popen(
            # -P: nothing from the current folder on the import path (a genome folder may hold any file)
            [sys.executable, "-P", "-m", __name__, str(workdir), str(os.getpid())],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # its errors are the step's to raise, when it reads again
            env={**os.environ, "TMPDIR": str(workdir / "tmp")},
            start_new_session=True,
        )
    except OSError:
        shutil.rmtree(workdir, ignore_errors=True)
        return
    with _lock:
        _started[request] = _Ahead(request, workdir, child)


def take_normalized_ahead(
    request: AheadRequest, module_sites: pl.DataFrame, output: Path
) -> SampleTable | None:
    """The table normalized ahead for exactly `request` and `module_sites`, moved to `output`, or None."""
    with _lock:
        ahead = _started.pop(request, None)
    if ahead is None:
        return None
    try:
        # Waited for however long it takes: it is doing the very work the step would start now, and is ahead. In
        # short waits: a command's main thread, where this runs, has SIGINT blocked (cli/interrupts.py), so a
        # Ctrl-C is raised here only between two waits, not when the child ends.
        while ahead.child.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                ahead.child.wait(WAIT_TICK_S)
        result = _read_result(ahead.workdir / RESULT_FILE)
        if (
            ahead.child.returncode != 0
            or result is None
            or result.get("sites") != sites_digest(module_sites)
            or result.get("version") != _version(Path(request.path))
        ):
            return None
        try:
            (ahead.workdir / TABLE_FILE).replace(output)
        except OSError:
            return None  # the step reads for itself
        return SampleTable(output, result["facts"])
    finally:
        _finish(ahead)


def discard(request: AheadRequest) -> None:
    """Stop a child nobody asked for and remove its folder (a command ending, however it ends)."""
    with _lock:
        ahead = _started.pop(request, None)
    if ahead is not None:
        _finish(ahead)


def remove_left_for(staging_root: Path, deleted: Callable[[str], bool]) -> int:
    """Remove the tables normalized ahead (in run staging folders under `staging_root`) of the samples `deleted`
    names by their user/sample key, as their deletion goes; return how many. A command killed outright once its
    child had made the table left it there with nothing else of the sample to find it by."""
    removed = 0
    for marker in staging_root.glob(f"*/{AHEAD_FOLDER}/{SAMPLE_FILE}") if staging_root.is_dir() else ():
        try:
            key = marker.read_text()
        except OSError:
            continue
        if deleted(key):
            shutil.rmtree(marker.parent, ignore_errors=True)
            with contextlib.suppress(OSError):
                marker.parent.parent.rmdir()  # the command's run staging folder, when nothing else is there
            removed += 1
    return removed


def _finish(ahead: _Ahead) -> None:
    if ahead.child.poll() is None:
        ahead.child.kill()
        ahead.child.wait()
    shutil.rmtree(ahead.workdir, ignore_errors=True)


def _version(path: Path) -> Any:
    """The genome's version (stat and first and last 64 KB) and that of the index htslib would load (which
    decides how it is read), as JSON gives them back; None when the genome cannot be read."""
    from just_dna_pipelines.io.vcf_index import index_path

    try:
        genome = file_version_with_ends(path)
        index = index_path(path, verify=False)
        return json.loads(json.dumps([genome, file_version(index) if index is not None else None]))
    except OSError:
        return None


def _read_result(path: Path) -> dict[str, Any] | None:
    try:
        result = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return result if isinstance(result, dict) and isinstance(result.get("facts"), dict) else None


def normalize_for(request: AheadRequest, workdir: Path) -> None:
    """The child's work: normalize as the step would, then write the table and its facts into `workdir`."""
    from just_dna_pipelines.annotation.sites import module_site_table
    from just_dna_pipelines.io.atomic import atomic_write_text
    from just_dna_pipelines.modules.sources import module_dirs

    path = Path(request.path)
    version = _version(path)
    sites = module_site_table(module_dirs(Path(request.modules_root)))
    table = normalize_sample(
        path,
        workdir / TABLE_FILE,
        sites,
        sample_column=request.sample_column,
        filters=request.filters(),
        read_sites=request.read_sites,
    )
    if _version(path) != version:
        return  # changed while it was read: the step reads it again
    result = {"version": version, "sites": sites_digest(sites), "facts": table.facts}
    atomic_write_text(workdir / RESULT_FILE, json.dumps(result))


def main(argv: list[str]) -> int:
    """The child: normalize on a thread while watching the command; a command gone (killed, however) leaves
    nobody to take the table, so the work stops and its folder is removed."""
    workdir, parent = Path(argv[0]), int(argv[1])  # not getppid(): the command may be gone before this runs
    fields = json.loads((workdir / REQUEST_FILE).read_text())
    if fields["passing_filters"] is not None:
        fields["passing_filters"] = tuple(fields["passing_filters"])
    request = AheadRequest(**fields)
    done: list[bool] = []

    def work() -> None:
        with contextlib.suppress(Exception):
            normalize_for(request, workdir)
            done.append(True)

    worker = threading.Thread(target=work, name="normalize-ahead", daemon=True)
    worker.start()
    while worker.is_alive() and os.getppid() == parent:
        worker.join(PARENT_CHECK_S)
    if os.getppid() != parent:
        for _ in range(20):  # the reading thread may still be writing there
            shutil.rmtree(workdir, ignore_errors=True)
            if not workdir.exists():
                break
            time.sleep(0.05)
        os._exit(1)  # the reading thread may be mid-file: nothing else to wait for
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

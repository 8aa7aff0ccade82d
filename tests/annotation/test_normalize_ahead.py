"""A sample normalized ahead in a child process (annotation/normalize_ahead.py): taken only for exactly what the
step asks, and then the very table and facts the step would have made itself."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from just_dna_pipelines.annotation import normalize_ahead
from just_dna_pipelines.annotation.normalize_ahead import (
    discard,
    request_for,
    start_normalize_ahead,
    take_normalized_ahead,
)
from just_dna_pipelines.annotation.sample_table import normalize_sample
from just_dna_pipelines.annotation.sites import module_site_table
from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.io.vcf_filters import VcfFilters
from just_dna_pipelines.modules.sources import module_dirs
from just_dna_pipelines.settings import get_settings


def _request(path: Path, modules: Path, sample_column: str | None = None) -> normalize_ahead.AheadRequest:
    return request_for(path, modules, sample_column=sample_column, filters=VcfFilters(), read_sites=True)


@pytest.mark.parametrize(
    "genome",
    [
        "genomes/PG_NA12878_hg38-chr21.vcf.gz",  # GRCh38 with its index: read at the module sites
        "genomes/PG_NA12878_chr21.vcf.gz",  # GRCh37: sites lifted with the chain, build facts and liftover facts
        "genomes/antku_small.vcf",  # plain text, no index: read in full
        "corpus/vcf/snps__tests__input__23andme.txt",  # a DNA-test raw file: its build decided from the data
    ],
)
def test_the_table_made_ahead_is_the_one_the_step_makes(
    genome: str,
    genomes: Path,
    compiled_modules: Path,
    liftover_chain: Path,
    pipeline_env,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("JUST_DNA_PIPELINES_LIFTOVER_CHAIN", str(liftover_chain))  # the child inherits it
    get_settings.cache_clear()
    path = genomes.parent / genome
    sites = module_site_table(module_dirs(compiled_modules))
    request = _request(path, compiled_modules)
    start_normalize_ahead(request, tmp_path / "ahead")
    taken = take_normalized_ahead(request, sites, tmp_path / "taken.parquet")
    own = normalize_sample(path, tmp_path / "own.parquet", sites)
    assert taken is not None, "the child's table was not taken"
    assert taken.path == tmp_path / "taken.parquet"
    assert taken.facts == own.facts
    assert_frame_equal(pl.read_parquet(taken.path), pl.read_parquet(own.path))
    assert not (tmp_path / "ahead").exists()


def test_a_file_changed_after_the_child_read_it_is_read_again_by_the_step(
    genomes: Path, compiled_modules: Path, pipeline_env, tmp_path: Path
) -> None:
    path = tmp_path / "genome.vcf.gz"
    shutil.copy(genomes / "PG_NA12878_hg38-chr21.vcf.gz", path)
    shutil.copy(genomes / "PG_NA12878_hg38-chr21.vcf.gz.tbi", f"{path}.tbi")
    request = _request(path, compiled_modules)
    start_normalize_ahead(request, tmp_path / "ahead")
    assert normalize_ahead._started[request].child.wait(120) == 0
    assert (tmp_path / "ahead" / normalize_ahead.RESULT_FILE).is_file()
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # another version of the file
    sites = module_site_table(module_dirs(compiled_modules))
    assert take_normalized_ahead(request, sites, tmp_path / "taken.parquet") is None
    assert not (tmp_path / "taken.parquet").exists() and not (tmp_path / "ahead").exists()


def test_other_module_sites_are_read_again_by_the_step(
    genomes: Path, compiled_modules: Path, pipeline_env, tmp_path: Path
) -> None:
    """E.g. rsID-only module sites an Ensembl reference placed since: the sites differ from the child's."""
    request = _request(genomes / "PG_NA12878_hg38-chr21.vcf.gz", compiled_modules)
    start_normalize_ahead(request, tmp_path / "ahead")
    assert normalize_ahead._started[request].child.wait(120) == 0
    assert (tmp_path / "ahead" / normalize_ahead.RESULT_FILE).is_file()  # made, and still not taken:
    sites = module_site_table(module_dirs(compiled_modules))
    assert take_normalized_ahead(request, sites.head(sites.height - 1), tmp_path / "taken.parquet") is None
    assert not (tmp_path / "ahead").exists()


def test_only_the_request_started_is_taken_and_a_child_nobody_asked_for_is_stopped(
    genomes: Path, compiled_modules: Path, pipeline_env, tmp_path: Path
) -> None:
    path = genomes / "vcfanno_query.vcf.gz"
    started = _request(path, compiled_modules, sample_column="NA12877")
    start_normalize_ahead(started, tmp_path / "ahead")
    [(_, ahead)] = [(r, a) for r, a in normalize_ahead._started.items() if r == started]
    sites = module_site_table(module_dirs(compiled_modules))
    other = _request(path, compiled_modules, sample_column="NA12878")
    assert take_normalized_ahead(other, sites, tmp_path / "taken.parquet") is None
    discard(started)
    assert ahead.child.poll() is not None  # ended (killed if it was still running)
    assert started not in normalize_ahead._started and not (tmp_path / "ahead").exists()
    assert take_normalized_ahead(started, sites, tmp_path / "taken.parquet") is None  # nothing left to take


def test_a_child_that_fails_leaves_the_error_to_the_step(
    compiled_modules: Path, pipeline_env, tmp_path: Path
) -> None:
    path = tmp_path / "not-a-genome.vcf"
    path.write_text("hello\n")
    request = _request(path, compiled_modules)
    start_normalize_ahead(request, tmp_path / "ahead")
    assert normalize_ahead._started[request].child.wait(120) != 0
    sites = module_site_table(module_dirs(compiled_modules))
    assert take_normalized_ahead(request, sites, tmp_path / "taken.parquet") is None
    assert not (tmp_path / "ahead").exists()
    with pytest.raises(VcfError):  # the step, reading for itself, raises the one-line error
        normalize_sample(path, tmp_path / "own.parquet", sites)


def test_nothing_in_the_current_folder_runs_in_the_child(
    genomes: Path, compiled_modules: Path, pipeline_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A genome folder may hold any file: a planted `polars.py` there must not be what the child imports."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    marker = tmp_path / "planted-code-ran"
    (folder / "polars.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.chdir(folder)
    request = _request(genomes / "PG_NA12878_hg38-chr21.vcf.gz", compiled_modules)
    start_normalize_ahead(request, tmp_path / "ahead")
    sites = module_site_table(module_dirs(compiled_modules))
    assert take_normalized_ahead(request, sites, tmp_path / "taken.parquet") is not None
    assert not marker.exists()


def test_the_sites_digest_takes_sites_without_a_position_and_ignores_order() -> None:
    """The same rsID placed by one module and rsID-only in another: nulls beside values in every column."""
    sites = pl.DataFrame(
        {
            "rsid": ["rs7", "rs7", "rs9", None],
            "chrom": ["1", None, "2", "3"],
            "start": [100, None, 5, 7],
            "ref": ["A", None, None, "G"],
        }
    )
    digest = normalize_ahead.sites_digest(sites)
    assert normalize_ahead.sites_digest(sites.reverse()) == digest
    assert normalize_ahead.sites_digest(sites.with_columns(pl.col("start") + 1)) != digest


COMMAND_THAT_DIES = """
import sys, time
from pathlib import Path
from just_dna_pipelines.annotation import normalize_ahead
from just_dna_pipelines.io.vcf_filters import VcfFilters
request = normalize_ahead.request_for(
    Path(sys.argv[1]), Path(sys.argv[2]), sample_column=None, filters=VcfFilters(), read_sites=False
)
normalize_ahead.start_normalize_ahead(request, Path(sys.argv[3]))
print(normalize_ahead._started[request].child.pid, flush=True)
time.sleep(120)
"""


def _ended(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"  # a zombie nobody reaped yet
    except FileNotFoundError:
        return True


def test_a_command_killed_outright_takes_its_child_and_folder_with_it(
    genomes: Path, compiled_modules: Path, pipeline_env, tmp_path: Path
) -> None:
    """SIGKILL runs no clean-up: the child sees its command gone, stops reading and removes its folder."""
    workdir = tmp_path / "ahead"
    command = subprocess.Popen(
        [sys.executable, "-c", COMMAND_THAT_DIES, str(genomes / "PG_NA12878_hg38-chr21.vcf.gz"),
         str(compiled_modules), str(workdir)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert command.stdout is not None
    child = int(command.stdout.readline())
    assert workdir.is_dir() and not _ended(child)
    command.send_signal(signal.SIGKILL)
    command.wait()
    deadline = time.monotonic() + 30
    while not (_ended(child) and not workdir.exists()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _ended(child), "the child outlived its command"
    assert not workdir.exists(), "the child left its folder behind"

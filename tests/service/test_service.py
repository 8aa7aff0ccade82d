"""The service API the web app calls: upload paths, inspection, launch in the background, progress, deletion."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from just_dna_pipelines import service
from just_dna_pipelines.errors import ModuleSourceError, VcfError
from just_dna_pipelines.keys import InvalidKeyError


def test_upload_path_is_confined_to_the_user_folder(pipeline_env) -> None:
    path = service.upload_path("alice", "../../etc/My Genome.vcf.gz")
    assert path == pipeline_env.input_dir / "users" / "alice" / "My_Genome.vcf.gz"
    with pytest.raises(VcfError, match=r"not a \.vcf"):
        service.upload_path("alice", "photo.png")
    with pytest.raises(InvalidKeyError):
        service.upload_path("../bob", "x.vcf")


def test_inspect_vcf_facts_and_errors(pipeline_env, genomes: Path, tmp_path: Path) -> None:
    facts = service.inspect_vcf(genomes / "PG_NA12878_hg38-chr21.vcf.gz")
    assert (facts.samples, facts.record_count, facts.genome_build, facts.contig_naming) == (
        ["NA12878"],
        65_370,
        "GRCh38",
        "chr",
    )
    assert service.inspect_vcf(genomes / "pg-hg38.bcf").record_count == 58_447
    old = service.inspect_vcf(genomes / "PG_NA12878_chr21.vcf.gz")
    assert old.genome_build == "GRCh37" and any("GRCh37" in w for w in old.warnings)
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes((genomes / "PG_NA12878_hg38-chr21.vcf.gz").read_bytes()[:200_000])
    with pytest.raises(VcfError, match="truncated"):
        service.inspect_vcf(cut)
    with pytest.raises(VcfError, match="sites-only"):
        service.inspect_vcf(genomes / "longevity_snps_1000genom.vcf")


def test_catalog_falls_back_to_demo_when_the_hub_is_unreachable(pipeline_env) -> None:
    started = time.perf_counter()
    catalog = service.module_catalog()
    assert time.perf_counter() - started < 30  # a generous bound: the real figure is well under a second
    assert catalog.source == "demo" and catalog.notice and "demo" in catalog.notice
    assert {m.name for m in catalog.modules} == {
        "longevitymap",
        "lipidmetabolism",
        "vo2max",
        "superhuman",
        "coronary",
    }
    assert all(m.demo for m in catalog.modules)
    with pytest.raises(ModuleSourceError):
        service.module_catalog("/no/such/folder")


@pytest.mark.slow
def test_launch_follow_and_delete(pipeline_env, genomes: Path, compiled_modules: Path, monkeypatch) -> None:
    monkeypatch.setenv("JUST_DNA_PIPELINES_MODULES_SOURCE", str(compiled_modules))
    from just_dna_pipelines.settings import get_settings

    get_settings.cache_clear()
    upload = service.upload_path("alice", "PG_NA12878_hg38-chr21.vcf.gz")
    shutil.copy(genomes / "PG_NA12878_hg38-chr21.vcf.gz", upload)
    sample = "PG_NA12878_hg38-chr21"
    with pytest.raises(ModuleSourceError, match="unknown module 'tarot'"):
        service.launch_run("alice", sample, ["longevitymap", "tarot"])
    from just_dna_pipelines.runs.instance import get_instance

    assert not get_instance().has_dynamic_partition("user_vcf_files", f"alice/{sample}")

    launched_at = time.perf_counter()
    run_id = service.launch_run("alice", sample, ["longevitymap", "vo2max"])
    assert time.perf_counter() - launched_at < 10  # returns at once; the work happens in another process
    seen_statuses, events, cursor = set(), [], -1
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        info = service.get_run(run_id)
        seen_statuses.add(info.status)
        new = service.run_events(run_id, cursor)
        if new:
            assert all(e.cursor > cursor for e in new)
            cursor = new[-1].cursor
            events.extend(new)
        if info.finished:
            break
        time.sleep(0.2)
    assert info.status == "success", info.error
    kinds = [e.kind for e in events]
    assert kinds.count("step_success") == 4 and kinds[-1] == "run_success"
    assert any("module longevitymap: done" in e.message for e in events)
    assert service.report_path("alice", sample) is not None
    files = service.sample_output_files("alice", sample)
    assert "longevity_report.html" in files and "longevitymap_weights.parquet" in files
    (run,) = service.sample_runs("alice", sample)
    assert run.run_id == run_id and run.modules == ["longevitymap", "vo2max"]
    assert service.sample_runs("bob", sample) == []

    deleted = service.delete_sample("alice", sample)
    assert any("upload" in d for d in deleted) and any("partition" in d for d in deleted)
    assert not upload.exists()
    assert service.report_path("alice", sample) is None
    assert service.sample_runs("alice", sample) == []


@pytest.mark.slow
def test_failed_run_reports_a_readable_error(pipeline_env, compiled_modules: Path, monkeypatch) -> None:
    monkeypatch.setenv("JUST_DNA_PIPELINES_MODULES_SOURCE", str(compiled_modules))
    from just_dna_pipelines.settings import get_settings

    get_settings.cache_clear()
    upload = service.upload_path("eve", "broken.vcf")
    upload.write_text("##fileformat=VCFv4.2\n##FORMAT=<ID=GT,Number=1,Type=String,Description=\"g\">\n"
                      "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n")  # fmt: skip
    run_id = service.launch_run("eve", "broken", ["longevitymap"], report=False)
    deadline = time.monotonic() + 180
    while not (info := service.get_run(run_id)).finished and time.monotonic() < deadline:
        time.sleep(0.2)
    assert info.status == "failure"
    assert info.error == "broken.vcf has a header but no records"


COMMAND_KILLED_AFTER_ITS_CHILD = """
import os, signal, sys, time
from pathlib import Path
from just_dna_pipelines.annotation import normalize_ahead
from just_dna_pipelines.io.vcf_filters import VcfFilters
vcf, modules, workdir, key = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
request = normalize_ahead.request_for(vcf, modules, sample_column=None, filters=VcfFilters(), read_sites=False)
normalize_ahead.start_normalize_ahead(request, workdir, sample=key)
normalize_ahead._started[request].child.wait()  # the table is made; the run's step never comes to take it
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_deleting_a_sample_removes_the_table_a_killed_command_normalized_ahead_for_it(
    pipeline_env, genomes: Path, compiled_modules: Path
) -> None:
    """A command killed outright (kill -9, the OOM killer, a machine's restart) once its normalize-ahead child had
    made the table left the person's variants in `.staging/<id>/normalized-ahead/` until the stale-staging sweep
    hours later, and deleting the sample (or the account) left them there: nothing in the folder named its sample."""
    import subprocess
    import sys
    import uuid

    from just_dna_pipelines.annotation.normalize_ahead import AHEAD_FOLDER, TABLE_FILE

    staging = pipeline_env.output_dir / ".staging"
    workdirs = {key: staging / str(uuid.uuid4()) / AHEAD_FOLDER for key in ("alice/genome", "bob/genome")}
    for key, workdir in workdirs.items():
        killed = subprocess.run(
            [sys.executable, "-c", COMMAND_KILLED_AFTER_ITS_CHILD, str(genomes / "PG_NA12878_hg38-chr21.vcf.gz"),
             str(compiled_modules), str(workdir), key],
            check=False,
        )  # fmt: skip
        assert killed.returncode == -9 and (workdir / TABLE_FILE).is_file()

    deleted = service.delete_sample("alice", "genome")
    assert not workdirs["alice/genome"].parent.exists()
    assert any("normalized ahead" in line for line in deleted), deleted
    assert (workdirs["bob/genome"] / TABLE_FILE).is_file()  # another person's sample is not touched

    service.delete_user("bob")
    assert not staging.exists() or not any(staging.iterdir())

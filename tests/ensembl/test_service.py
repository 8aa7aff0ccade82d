"""The service calls the web app uses, with "ensembl" in the module list: launch, live steps, downloads."""

from __future__ import annotations

import gzip
import shutil
import time
from pathlib import Path

import pytest

from just_dna_pipelines import service
from just_dna_pipelines.ensembl.engines import DEFAULT_ENGINE
from just_dna_pipelines.runs.config import ENSEMBL_ASSETS
from just_dna_pipelines.settings import get_settings

DEFAULT_ASSET = ENSEMBL_ASSETS[DEFAULT_ENGINE]  # the step the default engine runs as

pytestmark = [pytest.mark.fixtures, pytest.mark.slow]


def test_ensembl_entry_without_network(pipeline_env, real_reference: Path, monkeypatch) -> None:
    entry = service.ensembl_entry()
    assert entry.name == service.ENSEMBL_MODULE == "ensembl" and entry.title == "Ensembl variant annotations"
    assert entry.version == "not downloaded" and "nothing downloaded yet" in entry.description
    monkeypatch.setenv("JUST_DNA_PIPELINES_ENSEMBL_SOURCE", str(real_reference))
    get_settings.cache_clear()
    entry = service.ensembl_entry()
    assert entry.version.startswith("local-") and "chromosome files here" in entry.description


def test_launch_with_ensembl_offline_and_nothing_cached_is_refused_at_once(
    pipeline_env, genomes: Path, compiled_modules: Path, monkeypatch
) -> None:
    """Not a failed run that also skipped the modules (as it was): one line saying what to do, nothing started."""
    from just_dna_pipelines.errors import EnsemblError
    from just_dna_pipelines.runs.instance import get_instance

    monkeypatch.setenv("JUST_DNA_PIPELINES_MODULES_SOURCE", str(compiled_modules))
    get_settings.cache_clear()
    upload = service.upload_path("alice", "PG_NA12878_hg38-chr21.vcf.gz")
    shutil.copy(genomes / "PG_NA12878_hg38-chr21.vcf.gz", upload)
    with pytest.raises(EnsemblError) as refused:
        service.launch_run("alice", "PG_NA12878_hg38-chr21", ["longevitymap", "ensembl"])
    assert "is not cached; untick Ensembl variant annotations to run the modules alone" in str(refused.value)
    assert "--ensembl-source" not in str(refused.value)  # a command-line flag means nothing in the web app
    instance = get_instance()
    assert not instance.get_runs() and not instance.get_dynamic_partitions("user_vcf_files")
    assert service.launch_run("alice", "PG_NA12878_hg38-chr21", ["longevitymap"])  # the modules alone run


def test_launch_with_ensembl_lists_its_step_and_downloads(
    pipeline_env, genomes: Path, compiled_modules: Path, real_reference: Path, monkeypatch
) -> None:
    monkeypatch.setenv("JUST_DNA_PIPELINES_MODULES_SOURCE", str(compiled_modules))
    monkeypatch.setenv("JUST_DNA_PIPELINES_ENSEMBL_SOURCE", str(real_reference))
    get_settings.cache_clear()
    upload = service.upload_path("alice", "PG_NA12878_hg38-chr21.vcf.gz")
    shutil.copy(genomes / "PG_NA12878_hg38-chr21.vcf.gz", upload)
    sample = "PG_NA12878_hg38-chr21"
    run_id = service.launch_run("alice", sample, ["longevitymap", "ensembl"])
    deadline, cursor, events = time.monotonic() + 300, -1, []
    while time.monotonic() < deadline:
        info = service.get_run(run_id)
        new = service.run_events(run_id, cursor)
        if new:
            cursor, events = new[-1].cursor, events + new
        if info.finished:
            break
        time.sleep(0.3)
    assert info.status == "success", info.error
    steps = [e.step for e in events if e.kind == "step_success"]
    assert steps == [
        "user_vcf_source",
        "user_vcf_normalized",
        DEFAULT_ASSET,
        "user_hf_module_annotations",
        "user_longevity_report",
    ]
    assert any("rsIDs filled" in e.message for e in events)
    (run,) = service.sample_runs("alice", sample)
    assert run.modules == ["longevitymap", "ensembl"]
    files = service.sample_output_files("alice", sample)
    for name in ("ensembl_annotated.parquet", "ensembl_annotated.vcf.gz", "ensembl_annotated.vcf.gz.tbi"):
        assert name in files and files[name].is_file()
    with gzip.open(files["ensembl_annotated.vcf.gz"], "rt") as handle:
        assert handle.readline().startswith("##fileformat=VCF")
    assert "longevity_report.html" in files

    only = service.launch_run("alice", sample, ["ensembl"])  # Ensembl alone: no module step, no report step
    while not (info := service.get_run(only)).finished and time.monotonic() < deadline:
        time.sleep(0.3)
    assert info.status == "success", info.error
    steps = [e.step for e in service.run_events(only) if e.kind == "step_success"]
    assert steps == ["user_vcf_source", "user_vcf_normalized", DEFAULT_ASSET]

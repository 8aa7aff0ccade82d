"""Lineage and automation end to end: a loopback hub whose module and reference revisions change.

Only the samples that used what changed go stale; the automation conditions ask for exactly their
re-annotation (and the report after it), which then says what changed.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import dagster as dg
import huggingface_hub.constants
import polars as pl
import pytest
from dagster._core.definitions.data_version import StaleStatus
from dagster._utils.test.data_versions import get_stale_status_resolver

from just_dna_pipelines.definitions import build_definitions
from just_dna_pipelines.ensembl.engines import DEFAULT_ENGINE
from just_dna_pipelines.runs.config import ENSEMBL_ASSETS, RunRequest
from just_dna_pipelines.runs.execute import execute_run
from just_dna_pipelines.runs.instance import get_instance
from just_dna_pipelines.settings import get_settings

pytestmark = [pytest.mark.fixtures, pytest.mark.slow]
MODULES = ["coronary", "longevitymap"]
LONGEVITY = dg.AssetKey(["user_module_annotations", "longevitymap"])
CORONARY = dg.AssetKey(["user_module_annotations", "coronary"])
FOLDER = dg.AssetKey("user_hf_module_annotations")
REPORT = dg.AssetKey("user_longevity_report")
ENSEMBL = dg.AssetKey(ENSEMBL_ASSETS[DEFAULT_ENGINE])  # what a run with the default engine materializes
REFERENCE = dg.AssetKey("ensembl_annotations")


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def module_files(root: Path, longevity_weights: pl.DataFrame | None = None) -> dict[str, bytes]:
    """The modules as the hub lays them out (`data/{module}/{table}.parquet`), optionally new longevity weights."""
    files = {}
    for name in MODULES:
        for table in ("weights", "annotations", "studies"):
            files[f"data/{name}/{table}.parquet"] = (root / name / f"{table}.parquet").read_bytes()
    if longevity_weights is not None:
        files["data/longevitymap/weights.parquet"] = parquet_bytes(longevity_weights)
    return files


def requested(result: dg.EvaluateAutomationConditionsResult, key: dg.AssetKey) -> set[str | None]:
    return set(result.get_requested_partitions(key))


def test_new_revisions_refresh_only_the_samples_that_used_them(
    pipeline_env, genomes: Path, compiled_modules: Path, real_reference: Path, fake_hub_factory, monkeypatch
) -> None:
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    hub = fake_hub_factory("just-dna-seq/annotators", module_files(compiled_modules))
    chr21 = (real_reference / "data" / "homo_sapiens-chr21.parquet").read_bytes()
    reference = hub.add_repo("just-dna-seq/ensembl_variations", {"data/homo_sapiens-chr21.parquet": chr21})
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    get_settings.cache_clear()
    defs = build_definitions(MODULES)
    instance = get_instance()
    vcf = str(genomes / "PG_NA12878_hg38-chr21.vcf.gz")

    def run_job(name: str, **kwargs) -> None:
        assert defs.resolve_job_def(name).execute_in_process(instance=instance, **kwargs).success

    def annotate(partition: str, modules: list[str], ensembl: bool) -> None:
        request = RunRequest(partition_key=partition, vcf_path=vcf, modules=modules, ensembl=ensembl)
        assert execute_run(request, definitions=defs).success

    # Revision 1 of both sources is observed, the reference's chr21 cached, two samples annotated.
    run_job("observe_sources_job")
    run_job(
        "download_ensembl_job", run_config={"ops": {"ensembl_annotations": {"config": {"contigs": ["21"]}}}}
    )
    annotate("alice/s1", MODULES, ensembl=True)
    annotate("bob/s2", ["coronary"], ensembl=False)
    s1 = pipeline_env.output_dir / "users" / "alice" / "s1"
    first = json.loads((s1 / "modules" / "manifest.json").read_text())["modules"]["longevitymap"]
    assert first["matched"] == 3
    event = instance.get_latest_materialization_event(LONGEVITY)
    assert event is not None and event.asset_materialization is not None
    assert event.asset_materialization.metadata["weights_sha256"].value == first["sha256"]
    assert event.asset_materialization.tags["dagster/input_data_version/modules/longevitymap"].startswith(
        "unversioned+" + first["sha256"][:12]
    )
    assert dg.evaluate_automation_conditions(defs=defs, instance=instance).get_num_requested(LONGEVITY) == 0
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance)

    # Revision 2 of the modules: one longevitymap weight changes, one scored genotype is withdrawn.
    weights = pl.read_parquet(compiled_modules / "longevitymap" / "weights.parquet")
    changed = weights.with_columns(
        pl.when(pl.col("rsid") == "rs2253363").then(0.5).otherwise(pl.col("weight")).alias("weight")
    ).filter(pl.col("rsid") != "rs414743")
    hub.publish(module_files(compiled_modules, changed))
    run_job("observe_sources_job")
    stale = get_stale_status_resolver(instance, list(defs.resolve_asset_graph().assets_defs))
    assert stale.get_status(LONGEVITY, "alice/s1") == StaleStatus.STALE
    assert stale.get_status(LONGEVITY, "bob/s2") == StaleStatus.MISSING  # bob never used it
    assert stale.get_status(CORONARY, "alice/s1") == StaleStatus.FRESH
    assert stale.get_status(CORONARY, "bob/s2") == StaleStatus.FRESH

    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    assert requested(tick, LONGEVITY) == requested(tick, FOLDER) == requested(tick, REPORT) == {"alice/s1"}
    assert not requested(tick, CORONARY) and not requested(tick, ENSEMBL)
    run_job(
        "annotate_sample_job", partition_key="alice/s1", asset_selection=[LONGEVITY, FOLDER, REPORT]
    )  # what the sensor launches: no run config, only the selection
    manifest = json.loads((s1 / "modules" / "manifest.json").read_text())
    assert manifest["carried_over"] == ["coronary"]
    assert manifest["modules"]["longevitymap"]["matched"] == 2
    assert manifest["modules"]["longevitymap"]["sha256"] != first["sha256"]
    html = (s1 / "reports" / "longevity_report.html").read_text()
    assert "Reweighted: longevitymap rs2253363 A/A: 0.14 → 0.5" in html
    assert "Removed: longevitymap rs414743 A/G" in html
    stale = get_stale_status_resolver(instance, list(defs.resolve_asset_graph().assets_defs))
    assert stale.get_status(LONGEVITY, "alice/s1") == StaleStatus.FRESH

    # Revision 2 of the reference: the cache follows first, then the one sample that used it.
    table = pl.read_parquet(real_reference / "data" / "homo_sapiens-chr21.parquet")
    reference.publish(
        {"data/homo_sapiens-chr21.parquet": parquet_bytes(table.with_columns(pl.col("MAF") * 2))}
    )
    run_job("observe_sources_job")
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    assert requested(tick, REFERENCE) == {None} and not requested(tick, ENSEMBL)
    run_job(
        "download_ensembl_job", run_config={"ops": {"ensembl_annotations": {"config": {"contigs": ["21"]}}}}
    )
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    assert requested(tick, ENSEMBL) == requested(tick, FOLDER) == requested(tick, REPORT) == {"alice/s1"}
    assert (
        requested(tick, LONGEVITY) == requested(tick, CORONARY) == {"alice/s1"}
    )  # the rsID fill came from it
    run_job(
        "annotate_sample_job",
        partition_key="alice/s1",
        asset_selection=[ENSEMBL, LONGEVITY, CORONARY, FOLDER, REPORT],
    )
    ensembl = json.loads((s1 / "ensembl" / "manifest.json").read_text())
    assert ensembl["reference"]["revision"] == reference.sha
    html = (s1 / "reports" / "longevity_report.html").read_text()
    assert f'at revision <span class="mono">{reference.sha}</span>' in html
    assert "Ensembl reference that filled rsIDs" in html

"""The asset graph is built from the modules on this machine: a module folder added later appears on reload."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest

from just_dna_pipelines.definitions import build_definitions
from just_dna_pipelines.modules.catalog import HUB_MODULES
from just_dna_pipelines.settings import get_settings


def keys(defs: dg.Definitions) -> set[str]:
    return {key.to_user_string() for key in defs.resolve_all_asset_keys()}


def test_a_local_module_folder_added_at_run_time_appears_in_the_graph(
    pipeline_env, compiled_modules: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "my_modules"
    shutil.copytree(compiled_modules / "coronary", source / "coronary")
    monkeypatch.setenv("JUST_DNA_PIPELINES_MODULES_SOURCE", str(source))
    get_settings.cache_clear()
    before = keys(build_definitions())
    assert {"modules/coronary", "user_module_annotations/coronary"} <= before
    assert "modules/mymodule" not in before and "modules/longevitymap" not in before

    shutil.copytree(compiled_modules / "vo2max", source / "mymodule")  # a new module, no code change
    after = keys(build_definitions())
    assert after - before == {"modules/mymodule", "user_module_annotations/mymodule"}
    lineage = (
        build_definitions().resolve_asset_graph().get(dg.AssetKey(["user_module_annotations", "mymodule"]))
    )
    assert dg.AssetKey(["modules", "mymodule"]) in lineage.parent_keys


def test_before_the_hub_is_cached_the_graph_shows_the_hub_modules(pipeline_env) -> None:
    graph = keys(build_definitions())
    assert {f"modules/{name}" for name in HUB_MODULES} <= graph
    assert {"hf_annotators_dataset", "ensembl_hf_dataset", "ensembl_annotations"} <= graph


@pytest.mark.parametrize(("setting", "status"), [("0", "STOPPED"), ("1", "RUNNING")])
def test_reannotation_sensor_follows_the_setting(
    pipeline_env, monkeypatch, setting: str, status: str
) -> None:
    monkeypatch.setenv("JUST_DNA_PIPELINES_AUTO_REANNOTATE", setting)
    get_settings.cache_clear()
    sensor = build_definitions([]).resolve_sensor_def("reannotation_sensor")
    assert sensor.default_status == getattr(dg.DefaultSensorStatus, status)

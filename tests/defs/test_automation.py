"""The reannotation sensor's conditions: every external source (the modules' dataset, each module's tables, the
Ensembl reference) is observed at each hourly tick, so a new revision of any of them is noticed by itself."""

from __future__ import annotations

import datetime
import warnings

import dagster as dg

from just_dna_pipelines.definitions import build_definitions
from just_dna_pipelines.runs.instance import get_instance
from just_dna_pipelines.settings import get_settings

SOURCES = [dg.AssetKey("hf_annotators_dataset"), dg.AssetKey("ensembl_hf_dataset")]


def test_every_external_source_is_observed_at_the_hourly_tick(pipeline_env, monkeypatch) -> None:
    monkeypatch.setenv("JUST_DNA_PIPELINES_MODULES_SOURCE", "demo")
    get_settings.cache_clear()
    modules = ["coronary", "longevitymap"]
    defs = build_definitions(modules)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        everything = dg.AssetSelection.all(include_sources=True)
    sources = [*SOURCES, *(dg.AssetKey(["modules", name]) for name in modules)]
    instance = get_instance()
    start = datetime.datetime(2026, 12, 2, 10, 30, tzinfo=datetime.UTC)

    def tick(minutes: int, cursor=None) -> dg.EvaluateAutomationConditionsResult:
        when = start + datetime.timedelta(minutes=minutes)
        return dg.evaluate_automation_conditions(
            defs=defs, instance=instance, asset_selection=everything, evaluation_time=when, cursor=cursor
        )

    first = tick(0)
    assert first.total_requested == 0  # nothing is observed before the next full hour
    within = tick(20, first.cursor)  # 10:50
    assert within.total_requested == 0
    hourly = tick(45, within.cursor)  # 11:15: the 11:00 tick has passed
    assert {key: hourly.get_num_requested(key) for key in sources} == dict.fromkeys(sources, 1)
    assert hourly.total_requested == len(sources)  # and nothing else: no sample is re-annotated for it
    after = tick(50, hourly.cursor)
    assert after.total_requested == 0  # once per tick

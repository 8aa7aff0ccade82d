"""The `user_longevity_report` asset materialized for real in a temporary Dagster instance."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from just_dna_pipelines.defs.report import report_definitions
from just_dna_pipelines.defs.report.assets import user_longevity_report
from just_dna_pipelines.settings import get_settings


@pytest.fixture
def output_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """OUTPUT_DIR and DAGSTER_HOME in tmp_path, settings re-read."""
    monkeypatch.setenv("JUST_DNA_PIPELINES_OUTPUT_DIR", str(tmp_path / "output"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    get_settings.cache_clear()
    yield tmp_path / "output"
    get_settings.cache_clear()


@pytest.mark.slow
def test_report_asset_writes_the_report_with_metadata(output_dir: Path, factory) -> None:
    sample_dir, _ = factory.write_sample(
        output_dir,
        modules={"longevitymap": {"ledger": factory.ledger(528, 3)}},
        rows={"longevitymap": [factory.matched_row("longevitymap", "rs2253363", 0.14, category="other")]},
    )
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("user_vcf_files", ["alice/NA12878"])
        result = dg.materialize([user_longevity_report], partition_key="alice/NA12878", instance=instance)
    assert result.success
    html = sample_dir / "reports" / "longevity_report.html"
    assert html.is_file() and (sample_dir / "reports" / "longevitymap_variants.csv").is_file()
    [event] = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["path"].value == str(html)
    assert metadata["size_bytes"].value == html.stat().st_size
    assert (
        metadata["duration_s"].value > 0 and metadata["peak_rss_mb"].value > 0 and "cpu_percent" in metadata
    )
    assert (metadata["variants"].value, metadata["protective"].value, metadata["risk"].value) == (1, 1, 0)
    assert metadata["modules"].value == {
        "longevitymap": {"status": "done", "variants": 1, "net_weight": 0.14}
    }


@pytest.mark.slow
def test_report_asset_fails_cleanly_without_annotations(output_dir: Path) -> None:
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("user_vcf_files", ["alice/nobody"])
        result = dg.materialize(
            [user_longevity_report], partition_key="alice/nobody", instance=instance, raise_on_error=False
        )
    assert not result.success
    assert not (output_dir / "users" / "alice" / "nobody" / "reports").exists()


def test_definitions_load() -> None:
    defs = report_definitions()
    assert defs.resolve_asset_graph().get(dg.AssetKey("user_longevity_report")) is not None

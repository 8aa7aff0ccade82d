"""The report is read by the person (and whoever they share it with): it names no folder of the server."""

from __future__ import annotations

import shutil

from just_dna_pipelines.annotation.pipeline import SampleContext, annotate_sample
from just_dna_pipelines.modules.demo import ensure_demo_modules
from just_dna_pipelines.modules.registry import runnable_modules
from just_dna_pipelines.report.build import build_report_data
from just_dna_pipelines.report.render import render_html


def test_a_module_that_failed_and_the_module_source_are_reported_without_server_paths(pipeline_env, factory):
    """A module whose table went away while the run went on (its source refreshed) failed with the reason as the
    reader raised it: the report quoted the module folder's absolute path, and named the local source by its path."""
    root = pipeline_env.root / "server modules"
    shutil.copytree(ensure_demo_modules(), root)
    assert "vo2max" in runnable_modules(root)[0]
    (root / "vo2max" / "weights.parquet").unlink()
    sample = SampleContext(pipeline_env.root / "calls.parquet", "GRCh38", False, False, chromosomes=["1"])
    summary = annotate_sample(sample, root, ["vo2max"], pipeline_env.output_dir / "staging")["vo2max"]
    # the manifest keeps the failure as it was raised: the owner's record, which the command prints
    assert summary["status"] == "failed" and "server modules/vo2max/weights.parquet" in summary["reason"]

    sample_dir, _ = factory.write_sample(pipeline_env.output_dir, modules={"vo2max": summary}, rows={})
    html = render_html(build_report_data(sample_dir))

    assert "This module failed</strong>: No such file or directory (os error 2): weights.parquet" in html
    assert str(pipeline_env.root) not in html and "/tmp/" not in html

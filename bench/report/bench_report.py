"""Benchmark: build + render the report of a synthetic whole-genome result.

Run: `uv run python bench/report/bench_report.py [--out DIR]` (default out: bench/out/report).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import write_synthetic_sample

from just_dna_pipelines.report.build import build_report_data
from just_dna_pipelines.report.render import render_html, write_report

REPEATS = 5
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]


def main() -> int:
    """Time build, render and write; print one Markdown block for bench/RESULTS.md."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "out" / "report")
    out = parser.parse_args().out
    shutil.rmtree(out, ignore_errors=True)
    sample_dir = write_synthetic_sample(out)
    build_s, render_s, write_s = [], [], []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        data = build_report_data(sample_dir)
        t1 = time.perf_counter()
        render_html(data)
        t2 = time.perf_counter()
        paths = write_report(data, sample_dir / "reports")
        t3 = time.perf_counter()
        build_s.append(t1 - t0)
        render_s.append(t2 - t1)
        write_s.append(t3 - t2)
    html = paths["longevity_report.html"]
    rows = sum(m.tally.total for m in data.modules)
    studies = sum(len(v.studies) for m in data.modules for v in m.variants)
    cpu = _cpu_model()
    print(
        f"- machine: {platform.platform()}, {cpu}, {psutil.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GB, Python {platform.python_version()}, "
        f"1-min load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"- input: {len(data.modules)} modules, {rows} variant rows "
        f"({data.modules[0].tally.total} longevitymap), {studies} studies"
    )
    print(f"- build_report_data: median {statistics.median(build_s):.3f} s (of {REPEATS})")
    print(f"- render_html: median {statistics.median(render_s):.3f} s")
    print(
        f"- write_report (render + HTML + CSV/Parquet per module, atomic): median {statistics.median(write_s):.3f} s"
    )
    print(f"- HTML size: {html.stat().st_size / 2**20:.2f} MiB ({html})")
    if CHROMIUM.exists():
        load_s, search_s = _browser_timings(html)
        print(f"- Chromium: page load {load_s:.2f} s, one search over all rows {search_s * 1000:.0f} ms")
    return 0


def _cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo, or the machine type."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def _browser_timings(html: Path) -> tuple[float, float]:
    """Seconds to load the report from file:// in headless Chromium, and to apply one search."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        page = context.new_page()
        t0 = time.perf_counter()
        page.goto(html.as_uri(), wait_until="load")
        load_s = time.perf_counter() - t0
        search_s = page.evaluate(
            """() => { const box = document.getElementById("f-search"); const t0 = performance.now();
                 box.value = "adarb1"; box.dispatchEvent(new Event("input")); return (performance.now() - t0) / 1000; }"""
        )
        context.close()
    return load_s, float(search_s)


if __name__ == "__main__":
    sys.exit(main())

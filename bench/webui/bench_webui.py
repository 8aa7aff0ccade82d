"""Web app speed in real Chromium: Run click -> report visible (chr21), Dagster event -> page lag,
and UI round trips while a whole-genome run works.

Usage: uv run python bench/webui/bench_webui.py [--prod] [--repeats 3] [--wgs bench/out/wgs.vcf.gz]
(make the WGS VCF with `uv run python bench/vcf/generate_wgs_vcf.py --index` if absent).
Everything it writes goes to bench/out/webui/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import sys
import time
from pathlib import Path

from webui.harness import REPO_ROOT, chromium, running_app

FIXTURES = REPO_ROOT / ".." / "shared" / "fixtures"
CHR21 = FIXTURES / "genomes" / "PG_NA12878_hg38-chr21.vcf.gz"
OUT = REPO_ROOT / "bench" / "out" / "webui"
# Records every log line the page adds, with the browser's wall clock, so lag can be computed afterwards.
OBSERVER_JS = """
window.__seen = window.__seen || [];
if (!window.__observer) {
  window.__observer = new MutationObserver(muts => {
    for (const m of muts) for (const n of m.addedNodes) {
      if (n.nodeType !== 1) continue;
      const lines = n.classList && n.classList.contains('log-line') ? [n] : n.querySelectorAll('.log-line');
      for (const l of lines) window.__seen.push({t: Date.now() / 1000, text: l.innerText});
      const frame = n.id === 'report-frame' ? n : n.querySelector && n.querySelector('#report-frame');
      if (frame && !frame.__timed) {
        frame.__timed = true;
        window.__frameShown = Date.now() / 1000;
        frame.addEventListener('load', () => { window.__frameLoaded = Date.now() / 1000; });
      }
    }
  });
  window.__observer.observe(document.body, {childList: true, subtree: true});
}
"""


def note(message: str) -> None:
    """Progress on stderr."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of `values` by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def machine() -> str:
    """A one-line description of this machine and its load."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    mem = int(
        next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line)
    )
    return f"{cpu}, {os.cpu_count()} cores, {mem / 1024 / 1024:.0f} GB, Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}"


def fresh_app_env(out: Path) -> dict[str, str]:
    """Empty `out`, compile the real modules into it, and return the app's environment over its folders."""
    from just_dna_pipelines.modules.compile_sqlite import compile_sqlite_modules

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    modules = out / "modules"
    compile_sqlite_modules(FIXTURES / "modules", modules)
    return {
        "DATABASE_URL": f"sqlite:///{out / 'web.db'}",
        "JUST_DNA_PIPELINES_INPUT_DIR": str(out / "input"),
        "JUST_DNA_PIPELINES_OUTPUT_DIR": str(out / "output"),
        "JUST_DNA_PIPELINES_CACHE_DIR": str(out / "cache"),
        "JUST_DNA_PIPELINES_MODULES_SOURCE": str(modules),
        "DAGSTER_HOME": str(out / "dagster"),
    }


def sign_up(page, url: str) -> None:
    """Create the bench user."""
    page.goto(f"{url}/signup")
    page.fill("#name", "bench")
    page.fill("#password", "bench password 1")
    page.fill("#confirm", "bench password 1")
    page.click("button[type=submit]")
    page.wait_for_selector("#user-menu")


def upload(page, url: str, path: Path) -> float:
    """Upload through the drop zone; seconds until the sample is listed."""
    page.goto(f"{url}/")
    page.wait_for_selector("#vcf_upload[data-ready='true']")  # the drop zone waits for the live connection
    before = len(page.query_selector_all(".sample-card"))
    start = time.perf_counter()
    page.set_input_files("#vcf_upload input[type=file]", str(path))
    page.wait_for_function(f"document.querySelectorAll('.sample-card').length > {before}", timeout=600_000)
    return time.perf_counter() - start


def open_sample(page, url: str, name: str) -> None:
    """Open a sample page with every module ticked."""
    page.goto(f"{url}/sample?name={name}")
    page.wait_for_selector("#module-longevitymap")
    page.click("#select-all")
    page.wait_for_function("document.querySelector('#run-button').innerText.includes('Run 6')")


def run_to_report(page) -> tuple[float, str, dict[str, float]]:
    """Click Run; seconds until the report shows rs2253363 in the page, the run id, and where the time went."""
    from just_dna_pipelines import service

    page.evaluate(OBSERVER_JS)
    page.evaluate("window.__frameShown = null; window.__frameLoaded = null;")
    clicked = time.time()
    page.click("#run-button")
    page.wait_for_url(re.compile(r".*/run\?id="))
    page.frame_locator("#report-frame").locator("text=rs2253363").first.wait_for(timeout=300_000)
    seen_by_playwright = time.time()
    # The page's own clock: when the iframe's document had loaded (Playwright polls frames with back-off).
    visible = page.evaluate("window.__frameLoaded") or seen_by_playwright
    run_id = page.url.split("id=")[1]
    info = service.get_run(run_id)
    parts = {
        "click_to_run_start": (info.started_at or clicked) - clicked,
        "run_in_dagster": (info.ended_at or visible) - (info.started_at or clicked),
        "run_end_to_visible": visible - (info.ended_at or visible),
        "frame_shown_to_loaded": visible - (page.evaluate("window.__frameShown") or visible),
    }
    return visible - clicked, run_id, parts


def event_lags(page, run_id: str) -> list[float]:
    """Seconds from each progress event's Dagster timestamp to its log line appearing in the page."""
    from just_dna_pipelines import service

    seen = page.evaluate("window.__seen")
    events = service.run_events(run_id)
    first_seen: dict[str, float] = {}
    for item in seen:
        message = item["text"].split("  ", 1)[-1].strip()
        first_seen.setdefault(message, item["t"])
    return [first_seen[e.message.strip()] - e.timestamp for e in events if e.message.strip() in first_seen]


ROUND_TRIP_JS = """
async ([selector, expect]) => {
  const button = () => document.querySelector('#run-button');
  const done = new Promise(resolve => {
    setTimeout(() => resolve(null), 20000);  // a lost update counts as a failure, not a hang
    const observer = new MutationObserver(() => {
      if (button() && button().innerText.includes(expect)) { observer.disconnect(); resolve(performance.now()); }
    });
    observer.observe(document.body, {subtree: true, childList: true, characterData: true});
  });
  const start = performance.now();
  document.querySelector(selector).click();
  const end = await done;
  return end === null ? null : end - start;
}
"""


def round_trips(page, count: int) -> list[float]:
    """Seconds per UI round trip: click All/None in the page and time until the server's answer is rendered."""
    times = []
    for i in range(count):
        target, expect = ("#select-none", "Run 0") if i % 2 == 0 else ("#select-all", "Run 6")
        took = page.evaluate(ROUND_TRIP_JS, [target, expect])
        if took is None:
            raise TimeoutError(f"no answer to {target} within 20 s")
        times.append(took / 1000)
        page.wait_for_timeout(50)
    return times


def main() -> int:
    """Run the three measurements and print them as JSON and a Markdown row."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prod", action="store_true", help="production build on one port")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--wgs-repeats", type=int, default=3)
    parser.add_argument("--wgs", type=Path, default=REPO_ROOT / "bench" / "out" / "wgs.vcf.gz")
    args = parser.parse_args()
    env = fresh_app_env(OUT)
    os.environ.update(env)  # this process reads the run events too
    results: dict[str, object] = {"machine": machine(), "mode": "prod" if args.prod else "dev"}
    with running_app(env, OUT / "app.log", prod=args.prod) as app, chromium(OUT) as browser:
        page = browser.new_page()
        page.set_default_timeout(120_000)
        sign_up(page, app.url)
        note(f"app at {app.url}")
        results["upload_chr21_s"] = round(upload(page, app.url, CHR21), 2)
        totals, lags = [], []
        breakdown: dict[str, list[float]] = {}
        for _ in range(args.repeats):
            open_sample(page, app.url, "PG_NA12878_hg38-chr21")
            took, run_id, parts = run_to_report(page)
            note(
                f"run {run_id[:8]}: report after {took:.2f} s ({', '.join(f'{k} {v:.2f}' for k, v in parts.items())})"
            )
            totals.append(took)
            for key, value in parts.items():
                breakdown.setdefault(key, []).append(value)
            lags += event_lags(page, run_id)
        results["run_to_report_s"] = [round(t, 2) for t in totals]
        results["run_to_report_median_s"] = round(statistics.median(totals), 2)
        for key, values in breakdown.items():
            results[f"{key}_median_s"] = round(statistics.median(values), 2)
        results["event_lag_median_s"] = round(statistics.median(lags), 3)
        results["event_lag_p95_s"] = round(pct(lags, 0.95), 3)
        results["event_lag_max_s"] = round(max(lags), 3)
        results["events_measured"] = len(lags)

        open_sample(page, app.url, "PG_NA12878_hg38-chr21")
        idle = round_trips(page, 20)
        results["round_trip_idle_median_ms"] = round(statistics.median(idle) * 1000, 1)
        if args.wgs.is_file():
            wgs_page = browser.new_page()
            wgs_page.set_default_timeout(600_000)
            results["upload_wgs_s"] = round(upload(wgs_page, app.url, args.wgs), 1)
            results["wgs_size_mb"] = round(args.wgs.stat().st_size / 1e6, 1)
            busy: list[float] = []
            wgs_times, wgs_ok = [], []
            for _ in range(args.wgs_repeats):
                open_sample(wgs_page, app.url, args.wgs.name.split(".")[0])
                note("WGS run starting")
                wgs_start = time.perf_counter()
                wgs_page.click("#run-button")
                wgs_page.wait_for_url(re.compile(r".*/run\?id="))
                while not (
                    wgs_page.query_selector("#report-frame") or wgs_page.query_selector("#run-failure")
                ):
                    busy += round_trips(page, 4)
                    if time.perf_counter() - wgs_start > 900:
                        break
                wgs_times.append(round(time.perf_counter() - wgs_start, 1))
                wgs_ok.append(wgs_page.query_selector("#report-frame") is not None)
                note(f"WGS run took {wgs_times[-1]} s, ok={wgs_ok[-1]}; {len(busy)} round trips so far")
            results["wgs_run_s"] = wgs_times
            results["wgs_run_ok"] = wgs_ok
            if busy:  # none with --wgs-repeats 0
                results["round_trip_during_wgs_median_ms"] = round(statistics.median(busy) * 1000, 1)
                results["round_trip_during_wgs_p95_ms"] = round(pct(busy, 0.95) * 1000, 1)
                results["round_trip_during_wgs_max_ms"] = round(max(busy) * 1000, 1)
            results["round_trips_during_wgs"] = len(busy)
    print(json.dumps(results, indent=2))
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

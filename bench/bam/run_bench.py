"""Time streaming_bam_job beside `samtools flagstat` on the same BAMs in the same run, with peak RSS.

Usage: uv run python bench/bam/run_bench.py [--repeats 3] [--small 300000] [--large 3000000] [--extra 30000000]

Sizes: a header-only BAM (what every run costs with no read to stream), then 300 k, 3 M and 30 M reads by
default (each 10x the one before: peak RSS must stay flat). For each size and each repeat, interleaved:
- `samtools flagstat` (Debian package, one thread, its default),
- the whole job through `dagster job execute -c config.yaml` in a fresh process on a DAGSTER_HOME made
  for the benchmark (interpreter start, imports, instance, run storage, streaming, JSON writing:
  everything), once with the BAM-only code location (`just_dna_pipelines.bam_definitions`) and once with
  the app's whole code location (`just_dna_pipelines.definitions`),
- the job alone via `execute_in_process` in a fresh process, timed after imports.
Peak RSS comes from wait4() on each child. The machine is shared, so the best of the repeats is the
headline and every figure is kept in bench/out/bam/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUT = REPO / "bench" / "out" / "bam"
# `dagster job execute -m <module>`: the BAM-only code location and the app's whole one.
CODE_LOCATIONS = {
    "cli_bam_location": "just_dna_pipelines.bam_definitions",
    "cli_app_location": "just_dna_pipelines.definitions",
}
MEASURES = ("flagstat", *CODE_LOCATIONS, "job_in_process")


def _run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int, str]:
    """Run a command; (wall seconds, CPU seconds, peak RSS MB, stdout)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, out


def _ensure_bam(reads: int) -> Path:
    """Generate the benchmark BAM of this size unless it is already there."""
    path = OUT / f"synthetic_{reads}.bam"
    if not path.exists():
        subprocess.run(
            [sys.executable, str(HERE / "generate_bam.py"), "--reads", str(reads), "--out", str(path)],
            check=True,
        )
    return path


def _child_job(bam: str, output: str) -> None:
    """(In a fresh process) time execute_in_process of the job after all imports are done."""
    from just_dna_pipelines.bam.native import fast_path_description
    from just_dna_pipelines.defs.bam import (
        StreamingBamChunkProcessor,
        StreamingBamChunkStreamer,
        build_streaming_bam_job,
    )
    from just_dna_pipelines.defs.bam.sensors import stream_run_config

    job = build_streaming_bam_job(
        StreamingBamChunkStreamer(), StreamingBamChunkProcessor(output_directory=output)
    )
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    started = time.perf_counter()
    result = job.execute_in_process(run_config={**stream_run_config(bam, 1000), **quiet})
    seconds = time.perf_counter() - started
    assert result.success
    print(json.dumps({"job_seconds": seconds, "reader": fast_path_description()}))


def _bench_size(bam: Path, reads: int, repeats: int, work: Path) -> dict:
    """All measurements for one BAM."""
    home = work / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    config = work / f"config_{reads}.yaml"
    config.write_text(
        yaml.safe_dump(
            {"ops": {"stream_bam_chunks_op": {"inputs": {"bam_url": str(bam), "chunk_size": 1000}}}}
        )
    )
    env = {**os.environ, "DAGSTER_HOME": str(home), "JUST_DNA_PIPELINES_OUTPUT_DIR": str(work / "output")}
    # As on an ordinary machine, Python may cache the bytecode of our own modules (these VMs turn it off).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    dagster = str(Path(sys.executable).with_name("dagster"))
    rows: dict[str, list[tuple[float, float, int]]] = {name: [] for name in MEASURES}
    notes = ""
    for _ in range(repeats):
        wall, cpu, rss, out = _run(["samtools", "flagstat", str(bam)])
        assert out.startswith(f"{reads} + 0 in total"), out[:80]
        rows["flagstat"].append((wall, cpu, rss))
        for measure, module in CODE_LOCATIONS.items():
            command = [dagster, "job", "execute", "-m", module, "-j", "streaming_bam_job", "-c", str(config)]
            wall, cpu, rss, _ = _run(command, env=env)
            rows[measure].append((wall, cpu, rss))
        wall, cpu, rss, out = _run(
            [sys.executable, __file__, "--child-job", str(bam), str(work / "output2")], env=env
        )
        child = json.loads(out.strip().splitlines()[-1])
        notes = child["reader"]
        rows["job_in_process"].append((child["job_seconds"], cpu, rss))
    (folder,) = (work / "output" / "bam").iterdir()
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["stats"]["total_reads"] == reads
    result: dict = {"reads": reads, "bam_bytes": bam.stat().st_size, "reader": notes}
    for name, values in rows.items():
        walls = [v[0] for v in values]
        result[name] = {
            "best_s": min(walls),
            "median_s": statistics.median(walls),
            "best_reads_per_s": reads / min(walls),
            "cpu_s_median": statistics.median(v[1] for v in values),
            "peak_rss_mb": max(v[2] for v in values),
            "walls": walls,
        }
    return result


def _machine() -> dict:
    """nproc, CPU model, RAM and load, for the results table."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    mem_kb = int(
        next(
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    )
    samtools = (
        subprocess.run(["samtools", "--version"], capture_output=True, check=True)
        .stdout.decode(errors="replace")
        .splitlines()[0]
    )
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gb": round(mem_kb / 1024**2, 1),
        "load_avg": os.getloadavg(),
        "samtools": samtools,
    }


def main() -> None:
    """Generate the two sizes if needed, measure, print and save."""
    if len(sys.argv) == 4 and sys.argv[1] == "--child-job":
        _child_job(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--small", type=int, default=300_000)
    parser.add_argument("--large", type=int, default=3_000_000)
    parser.add_argument("--extra", type=int, nargs="*", default=[30_000_000], help="more sizes (reads)")
    args = parser.parse_args()
    results: dict = {"machine": _machine(), "sizes": []}
    # Work folder under bench/out, not /tmp: file creation in this VM's /tmp is ~10x slower.
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="work_", dir=OUT) as tmp:
        # A header-only BAM first: what every run costs before and after any read is streamed.
        for reads in (0, args.small, args.large, *args.extra):
            bam = _ensure_bam(reads)
            results["sizes"].append(_bench_size(bam, reads, args.repeats, Path(tmp) / str(reads)))
    results["machine"]["load_avg_after"] = os.getloadavg()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results["machine"]))
    for size in results["sizes"]:
        print(f"\n{size['reads']:,} reads ({size['bam_bytes'] / 1e6:.0f} MB BAM), {size['reader']}")
        for name in MEASURES:
            r = size[name]
            print(
                f"  {name:16s} best {r['best_s']:6.2f} s  median {r['median_s']:6.2f} s  "
                f"{r['best_reads_per_s'] / 1e6:5.2f} M reads/s  cpu {r['cpu_s_median']:5.2f} s  peak RSS {r['peak_rss_mb']} MB"
            )
        for name in MEASURES[1:] if size["reads"] else ():
            best = size[name]["best_reads_per_s"] / size["flagstat"]["best_reads_per_s"]
            median = size["flagstat"]["median_s"] / size[name]["median_s"]
            print(f"  {name} / flagstat reads/s: best {best:.2f}, median {median:.2f}")


if __name__ == "__main__":
    main()

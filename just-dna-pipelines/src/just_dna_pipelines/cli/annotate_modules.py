"""`pipelines annotate-modules`: annotate a VCF with modules through the Dagster job, printing progress."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

from just_dna_pipelines.errors import PipelineError, VcfError
from just_dna_pipelines.keys import sample_name_from_filename, validate_name


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "annotate-modules",
        help="annotate a VCF with annotation modules (and write the report)",
        description="Normalize a VCF, match it against annotation modules and write per-module results, "
        "running the Dagster job on the persistent instance so the run shows in the Dagster UI.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--vcf", type=Path, help="a local .vcf, .vcf.gz or .bcf")
    source.add_argument("--zenodo", metavar="URL", help="a Zenodo record holding a VCF")
    source.add_argument(
        "--hf-source", metavar="REPO/PATH", help="OWNER/REPO/PATH of a VCF in a Hugging Face dataset"
    )
    parser.add_argument("--user", required=True, help="user name (the partition's first part)")
    parser.add_argument("--sample", help="sample name (default: the file's stem)")
    parser.add_argument("--sample-column", help="which sample of a multi-sample VCF (default: the first)")
    parser.add_argument("--modules", help="comma-separated module names (default: all available)")
    parser.add_argument("--modules-source", help="hf://OWNER/REPO, a local folder, or demo")
    parser.add_argument("--engine", choices=["polars", "duckdb"], default="polars")
    parser.add_argument(
        "--confident-regions", type=Path, metavar="BED", help="BED of regions called confidently"
    )
    parser.add_argument(
        "--pass-filters",
        default="PASS,.,RefCall",
        help="comma-separated FILTER values that count as calls, or 'any' (default: PASS,.,RefCall)",
    )
    parser.add_argument("--min-depth", type=int, help="minimum FORMAT/DP for a call to count")
    parser.add_argument("--min-quality", type=float, help="minimum QUAL for a call to count")
    parser.add_argument(
        "--read-mode",
        choices=["auto", "full"],
        default="auto",
        help="auto: read only the module sites of an indexed .vcf.gz/.bcf through its index; full: every record",
    )
    parser.add_argument("--no-report", action="store_true", help="skip the HTML report")
    parser.set_defaults(handler=run)


def _fetch_input(args: argparse.Namespace) -> Path:
    """The local VCF to annotate: the given path, or a download into the user's input folder."""
    from just_dna_pipelines.settings import get_settings

    if args.vcf is not None:
        if not args.vcf.exists():
            raise VcfError(f"file not found: {args.vcf}")
        return args.vcf.resolve()
    settings = get_settings()
    folder = settings.user_input_dir(args.user)
    if args.zenodo:
        from just_dna_pipelines.io.remote_vcf import download_zenodo_vcf

        return download_zenodo_vcf(args.zenodo, folder)
    from just_dna_pipelines.io.remote_vcf import download_hf_vcf

    return download_hf_vcf(
        args.hf_source,
        folder,
        token=settings.hf_token,
        endpoint=settings.hf_endpoint,
        offline=settings.hf_offline,
    )


def _chosen_modules(args: argparse.Namespace) -> tuple[list[str], str]:
    """Validate the module names against the source before anything runs."""
    from just_dna_pipelines.modules.registry import choose_modules
    from just_dna_pipelines.modules.sources import module_dirs, resolve_modules_source

    resolved = resolve_modules_source(args.modules_source)
    wanted = [m.strip() for m in args.modules.split(",") if m.strip()] if args.modules else None
    return choose_modules(
        [folder.name for folder in module_dirs(resolved.root)], wanted
    ), args.modules_source or ""


def _print_progress(run_id: str, done: threading.Event) -> None:
    """Print the run's step and log events as they arrive, until the run thread ends."""
    from just_dna_pipelines.runs.events import run_events
    from just_dna_pipelines.runs.instance import get_instance

    instance = get_instance()
    cursor = -1
    started = time.perf_counter()
    while True:
        finished = done.is_set()
        for event in run_events(instance, run_id, cursor):
            cursor = event.cursor
            elapsed = time.perf_counter() - started
            if event.kind == "step_start":
                print(f"[{elapsed:5.1f}s] {event.step} ...", flush=True)
            elif event.kind == "step_success":
                print(f"[{elapsed:5.1f}s] {event.step} done", flush=True)
            elif event.kind == "log" and event.level in {"info", "warning"}:
                prefix = "warning: " if event.level == "warning" else ""
                print(f"[{elapsed:5.1f}s]   {prefix}{event.message}", flush=True)
        if finished:
            return
        done.wait(0.2)


def run(args: argparse.Namespace) -> int:
    """Fetch, validate, run the job in-process with live progress, then print where the outputs are."""
    from just_dna_pipelines.io.vcf_header import read_vcf_header

    validate_name(args.user, "user name")
    if args.sample is not None:
        validate_name(args.sample, "sample name")
    if args.confident_regions is not None and not args.confident_regions.is_file():
        raise PipelineError(f"confident-regions file not found: {args.confident_regions}")
    modules, modules_source = _chosen_modules(args)
    vcf = _fetch_input(args)
    header = read_vcf_header(vcf)
    sample = args.sample or sample_name_from_filename(vcf.name)
    from just_dna_pipelines.io.vcf_normalize import choose_sample

    choose_sample(header, args.sample_column)
    if "GT" not in header.format_fields:
        raise VcfError(f"{vcf.name} has no GT (genotype) FORMAT field")
    return _execute(args, vcf, sample, modules, modules_source)


def _execute(
    args: argparse.Namespace, vcf: Path, sample: str, modules: list[str], modules_source: str
) -> int:
    import uuid

    from just_dna_pipelines.keys import make_partition_key
    from just_dna_pipelines.runs.config import RunRequest
    from just_dna_pipelines.runs.events import failure_message
    from just_dna_pipelines.runs.execute import execute_run, forget_partition_if_unused
    from just_dna_pipelines.service import prepare_instance
    from just_dna_pipelines.settings import get_settings

    prepare_instance()  # the CLI may open a fresh DAGSTER_HOME while the app or Dagster do too
    key = make_partition_key(args.user, sample)
    passing = (
        None if args.pass_filters.strip().lower() == "any" else [f for f in args.pass_filters.split(",") if f]
    )
    request = RunRequest(
        partition_key=key,
        vcf_path=str(vcf),
        modules=modules,
        modules_source=modules_source,
        engine=args.engine,
        confident_regions=str(args.confident_regions.resolve()) if args.confident_regions else None,
        sample_column=args.sample_column,
        passing_filters=passing,
        min_depth=args.min_depth,
        min_quality=args.min_quality,
        read_mode=args.read_mode,
        report=not args.no_report,
    )
    run_id = str(uuid.uuid4())
    print(f"annotating {vcf.name} as {key} with {', '.join(modules)} (run {run_id})", flush=True)
    outcome: dict = {}
    done = threading.Event()

    def work() -> None:
        try:
            outcome["result"] = execute_run(request, run_id=run_id)
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=work, name="dagster-run", daemon=True)
    worker.start()
    _print_progress(run_id, done)
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    result = outcome["result"]
    if not result.success:
        failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        message = "the run failed"
        if failures and failures[0].step_failure_data and failures[0].step_failure_data.error:
            message = failure_message(failures[0].step_failure_data.error)
        forget_partition_if_unused(key)
        raise PipelineError(message)
    _print_summary(get_settings().sample_output_dir(args.user, sample), not args.no_report)
    return 0


def _print_summary(sample_dir: Path, with_report: bool) -> None:
    """Per-module counts, ledgers and output paths, from the manifest the run wrote."""
    import json

    manifest = json.loads((sample_dir / "modules" / "manifest.json").read_text())
    facts = manifest["input"]
    kept = (
        f"{facts['records_kept']} pass filters"
        if facts.get("records_kept") is not None
        else "module sites read through the index"
    )
    print(
        f"sample column {facts['sample_column']}, {facts['records']} records ({kept}), genome build {facts['genome_build']}"
    )
    for warning in facts.get("warnings", []):
        print(f"warning: {warning}")
    for name, summary in manifest["modules"].items():
        ledger = summary.get("ledger", {})
        tested = ledger.get("called", 0) + ledger.get("inferred_hom_ref", 0)
        line = (
            f"  {name:<16} {summary['status']:<8} {summary.get('matched', 0):>4} variants "
            f"(+{summary.get('protective', 0)} / -{summary.get('risk', 0)}); "
            f"tested {tested} of {ledger.get('sites', 0)} sites"
        )
        if ledger.get("inferred_hom_ref"):
            line += f" ({ledger['inferred_hom_ref']} inferred hom-ref)"
        if summary.get("reason"):
            line += f" - {summary['reason']}"
        print(line)
    print(f"module results: {sample_dir / 'modules'}")
    if with_report:
        print(f"report: {sample_dir / 'reports' / 'longevity_report.html'}")
    sys.stdout.flush()

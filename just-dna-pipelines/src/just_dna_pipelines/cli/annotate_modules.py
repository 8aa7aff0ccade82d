"""`pipelines annotate-modules`: annotate a VCF with modules through the Dagster job, printing progress."""

from __future__ import annotations

import argparse
import contextlib
import sys
import uuid
from pathlib import Path

from just_dna_pipelines.errors import PipelineError, VcfError
from just_dna_pipelines.keys import sample_name_from_filename, validate_name


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "annotate-modules",
        help="annotate a genome (VCF or DNA-test raw file) with annotation modules (and write the report)",
        description="Normalize a genome (VCF/BCF on GRCh38 or GRCh37, or a 23andMe, AncestryDNA, MyHeritage, "
        "FamilyTreeDNA or LivingDNA raw file), match it against annotation modules and write per-module "
        "results, running the Dagster job on the persistent instance so the run shows in the Dagster UI.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--input",
        "--vcf",
        dest="input",
        type=Path,
        help="a local .vcf, .vcf.gz or .bcf, or a DNA-test raw file (.txt, .csv, .gz, .zip); --vcf is an alias",
    )
    source.add_argument("--zenodo", metavar="URL", help="a Zenodo record holding a VCF")
    source.add_argument(
        "--hf-source", metavar="REPO/PATH", help="OWNER/REPO/PATH of a VCF in a Hugging Face dataset"
    )
    parser.add_argument("--user", required=True, help="user name (the partition's first part)")
    parser.add_argument("--sample", help="sample name (default: the file's stem)")
    parser.add_argument(
        "--sample-column",
        help="which sample of a multi-sample VCF (default: the first that is not a control such as BLANK or NTC)",
    )
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
    parser.set_defaults(handler=run, settles_gc=True)


def _fetch_input(args: argparse.Namespace) -> Path:
    """The local genome file to annotate: the given path, or a download into the user's input folder."""
    from just_dna_pipelines.settings import get_settings

    if args.input is not None:
        from just_dna_pipelines.io.utf8_path import require_utf8_path

        if not args.input.exists():
            raise VcfError(f"file not found: {args.input}")
        return require_utf8_path(args.input.resolve())
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


def _chosen_modules(args: argparse.Namespace) -> tuple[list[str], str, Path]:
    """Validate the module names against the source before anything runs; the modules, the source as the run
    takes it, and the modules' root."""
    from just_dna_pipelines.modules.registry import choose_modules, runnable_modules
    from just_dna_pipelines.modules.sources import resolve_modules_source

    resolved = resolve_modules_source(args.modules_source)
    wanted = [m.strip() for m in args.modules.split(",") if m.strip()] if args.modules else None
    available, refused = runnable_modules(resolved.root)
    return choose_modules(available, wanted, refused), args.modules_source or "", resolved.root


def run(args: argparse.Namespace) -> int:
    """Fetch, validate, run the job in-process with live progress, then print where the outputs are."""
    validate_name(args.user, "user name")
    if args.sample is not None:
        validate_name(args.sample, "sample name")
    if args.confident_regions is not None:  # refused now, not after the genome was read
        from just_dna_pipelines.annotation.regions import read_bed_intervals

        read_bed_intervals(args.confident_regions)
    _check_filters(args)
    if args.input is not None and args.input.is_file():
        from just_dna_pipelines.io.file_hash import start_sha256

        # the run's first step asks for it: hashed on the other core while Dagster loads
        start_sha256(args.input.resolve())
    modules, modules_source, modules_root = _chosen_modules(args)
    vcf = _fetch_input(args)
    try:
        sample = args.sample or sample_name_from_filename(vcf.name)
        _check_input(args, vcf)
    except BaseException:
        if args.input is None:  # a download refused: it is not kept in the user's folder
            vcf.unlink(missing_ok=True)
        raise
    return _execute(args, vcf, sample, modules, modules_source, modules_root)


def _passing_filters(args: argparse.Namespace) -> list[str] | None:
    """--pass-filters as the run takes it (None: any FILTER passes)."""
    if args.pass_filters.strip().lower() == "any":
        return None
    return [value.strip() for value in args.pass_filters.split(",") if value.strip()]


def _check_filters(args: argparse.Namespace) -> None:
    """Refuse filters under which no call could count (every run would match nothing, silently)."""
    if _passing_filters(args) == []:
        raise PipelineError("--pass-filters names no FILTER value; give values such as PASS,. or 'any'")
    for option, value in (("--min-depth", args.min_depth), ("--min-quality", args.min_quality)):
        if value is not None and value < 0:
            raise PipelineError(f"{option} must be 0 or more, not {value}")


def _check_input(args: argparse.Namespace, path: Path) -> None:
    """Refuse at once, in one line, what no run could read (before any run or partition exists); for a VCF
    name the sample that will be read and pin it for the run."""
    from just_dna_pipelines.io.input_kind import describe_array_source, detect_input_kind
    from just_dna_pipelines.io.vcf_preview import preview_vcf

    if detect_input_kind(path) == "array":
        if args.sample_column is not None:
            raise PipelineError("--sample-column applies to VCFs; a DNA-test raw file holds one person")
        describe_array_source(path)
        return
    preview = preview_vcf(path, args.sample_column)
    _print_sample_choice(preview.header.samples, preview.sample_column, args.sample_column is not None)
    args.sample_column = preview.sample_column  # the run reads exactly the sample named here


def _print_sample_choice(samples: list[str], chosen: str, asked: bool) -> None:
    """Name the sample read from a multi-sample VCF, and how to pick another."""
    from just_dna_pipelines.errors import printable
    from just_dna_pipelines.io.vcf_samples import list_samples, looks_like_control

    if len(samples) < 2:
        return
    how = "as asked" if asked else "by default"
    skipped = [name for name in samples[: samples.index(chosen)] if looks_like_control(name)]
    note = (
        f" ({', '.join(n or '(empty name)' for n in skipped)} skipped as controls)"
        if skipped and not asked
        else ""
    )
    print(
        printable(  # the names are the file's own text: escaped, never terminal controls
            f"reading sample {chosen} {how}{note}; the file has {len(samples)}: {list_samples(samples)}; "
            "pick another with --sample-column NAME"
        ),
        flush=True,
    )


def _execute(
    args: argparse.Namespace,
    vcf: Path,
    sample: str,
    modules: list[str],
    modules_source: str,
    modules_root: Path,
) -> int:
    from just_dna_pipelines.annotation import normalize_ahead
    from just_dna_pipelines.cli import warm_place
    from just_dna_pipelines.cli.run_job import execute_with_progress
    from just_dna_pipelines.io.vcf_filters import VcfFilters
    from just_dna_pipelines.keys import make_partition_key
    from just_dna_pipelines.runs.config import RunRequest
    from just_dna_pipelines.settings import get_settings
    from just_dna_pipelines.staging import run_staging_dir

    key = make_partition_key(args.user, sample)
    passing = _passing_filters(args)
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
    # the run's normalize step, done meanwhile on the other core while Dagster loads (taken only if it matches):
    # asked with the config the run gives that step. Not in a warm server's child: Dagster is loaded already,
    # and the step would wait for a child process still importing what it needs.
    step = request.run_config()["ops"]["user_vcf_normalized"]["config"]
    ahead = normalize_ahead.request_for(
        vcf,
        modules_root,
        sample_column=step["sample_column"],
        filters=VcfFilters.from_options(step["passing_filters"], step["min_depth"], step["min_quality"]),
        read_sites=step["read_mode"] == "auto",
    )
    if not warm_place.serving_warm:
        normalize_ahead.start_normalize_ahead(
            ahead, run_staging_dir(run_id) / normalize_ahead.AHEAD_FOLDER, sample=key
        )
    try:
        execute_with_progress(request, f"annotating {vcf.name} as {key} with {', '.join(modules)}", run_id)
    finally:
        normalize_ahead.discard(ahead)
        with contextlib.suppress(OSError):
            run_staging_dir(run_id).rmdir()  # when the run left nothing else there
    _print_summary(get_settings().sample_output_dir(args.user, sample), not args.no_report)
    return 0


def _print_summary(sample_dir: Path, with_report: bool) -> None:
    """Per-module counts, ledgers and output paths, from the manifest the run wrote (its text from the genome and
    the module source escaped: a sample column or a failure's reason never reaches the terminal as controls)."""
    import json

    from just_dna_pipelines.errors import printable
    from just_dna_pipelines.report.input_text import build_text, fmt_count, input_kind_text

    manifest = json.loads((sample_dir / "modules" / "manifest.json").read_text())
    facts = manifest["input"]
    lines: list[str] = []
    if facts.get("input_kind") == "array":
        lines.append(str(input_kind_text(facts)))
    else:
        kept = (
            f"{fmt_count(facts['records_kept'])} pass filters"
            if facts.get("records_kept") is not None
            else "counted in one pass; module sites read"
            if facts.get("site_reader") == "scan"
            else "module sites read through the index"
        )
        lines.append(
            f"sample column {facts['sample_column']}, {fmt_count(facts['records'])} records ({kept})"
        )
    lines.append(f"genome build {build_text(facts)}")
    lines.extend(f"warning: {warning}" for warning in facts.get("warnings", []))
    for name, summary in manifest["modules"].items():
        ledger = summary.get("ledger", {})
        tested = ledger.get("called", 0) + ledger.get("inferred_hom_ref", 0)
        matched = summary.get("matched", 0)
        line = (
            f"  {name:<16} {summary['status']:<8} {matched:>4,} variant{'s' * (matched != 1)} "
            f"(+{summary.get('protective', 0):,} / -{summary.get('risk', 0):,}); "
            f"tested {tested:,} of {ledger.get('sites', 0):,} sites"
        )
        if ledger.get("inferred_hom_ref"):
            line += f" ({ledger['inferred_hom_ref']:,} inferred hom-ref)"
        if summary.get("reason"):
            line += f" - {summary['reason']}"
        lines.append(line)
    for name, reason in (manifest.get("modules_not_run") or {}).items():
        lines.append(f"  {name:<16} not run  - the module cannot be run: {reason}")
    lines.append(f"module results: {sample_dir / 'modules'}")
    if with_report:
        lines.append(f"report: {sample_dir / 'reports' / 'longevity_report.html'}")
    print("\n".join(printable(line) for line in lines))
    sys.stdout.flush()

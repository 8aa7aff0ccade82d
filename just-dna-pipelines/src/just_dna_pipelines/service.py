"""The few calls the web app and the CLI need: inspect, register, launch, follow, list, delete.

This module is the contract between the web app and the pipelines; it hides Dagster from its callers.
Every call that takes a user and a sample validates them first (keys.py); no caller builds paths itself.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from just_dna_pipelines.errors import ModuleSourceError, PipelineError, VcfError
from just_dna_pipelines.input_check import InputFacts, inspect_input, upload_refusal
from just_dna_pipelines.keys import InvalidKeyError, make_partition_key, parse_partition_key, validate_name
from just_dna_pipelines.modules.registry import ModuleInfo, choose_modules
from just_dna_pipelines.runs.config import RunRequest
from just_dna_pipelines.runs.events import DEAD_MESSAGE as STOPPED_MESSAGE  # a step stopped by a signal
from just_dna_pipelines.runs.models import ProgressEvent, RunInfo
from just_dna_pipelines.settings import get_settings
from just_dna_pipelines.uploads import find_user_vcf, input_suffix, user_vcf_files

if TYPE_CHECKING:
    from collections.abc import Callable

    from dagster import DagsterInstance, DagsterRun

__all__ = [
    "ENSEMBL_MODULE",
    "STOPPED_MESSAGE",
    "InputFacts",
    "ModuleCatalog",
    "ModuleInfo",
    "ProgressEvent",
    "RunInfo",
    "VcfFacts",
    "cancel_run",
    "delete_sample",
    "delete_user",
    "ensembl_entry",
    "get_run",
    "inspect_input",
    "inspect_vcf",
    "launch_run",
    "list_modules",
    "module_catalog",
    "prepare_instance",
    "register_sample",
    "report_path",
    "run_event_files",
    "run_events",
    "sample_output_files",
    "sample_runs",
    "upload_path",
    "upload_refusal",
    "warm_up",
]

PARTITIONS = "user_vcf_files"
# The Ensembl variant annotation, offered in the module list under this name.
ENSEMBL_MODULE = "ensembl"
ENSEMBL_DOWNLOADS = {
    "ensembl_annotated.parquet": "annotated.parquet",
    "ensembl_annotated.vcf.gz": "annotated.vcf.gz",
    "ensembl_annotated.vcf.gz.tbi": "annotated.vcf.gz.tbi",
}


@dataclass(frozen=True)
class VcfFacts:
    """What a quick look at a VCF tells: enough to accept or reject an upload at once."""

    path: Path
    samples: list[str]
    record_count: int
    genome_build: str  # "GRCh38", "GRCh37" or "unknown"
    contig_naming: str  # "chr", "plain" or "unknown"
    is_gvcf: bool
    warnings: list[str]
    # The sample to preselect: the first that is not a control (BLANK, NTC, water, empty name) and has calls.
    default_sample: str = ""
    # Per sample, how many of the first 10,000 records give it a genotype (None past 64 samples).
    sample_calls: dict[str, int] | None = None
    # Damaged records that reading skips (a file with more than 1 % of them is refused).
    malformed_records: int = 0


@dataclass(frozen=True)
class ModuleCatalog:
    """The modules on offer, where they come from, and a notice when the app fell back to demo data."""

    modules: list[ModuleInfo]
    source: str
    notice: str | None


def inspect_vcf(path: Path) -> VcfFacts:
    """Validate a VCF at once (header, a sample with GT, every record readable); raise VcfError with one line if not."""
    from just_dna_pipelines.io.vcf_inspect import inspect_vcf_file

    inspection = inspect_vcf_file(path)
    preview = inspection.preview
    header = preview.header
    warnings = list(inspection.warnings)
    if header.genome_build == "GRCh37":
        warnings.append(
            "this VCF is GRCh37 (hg19); modules use GRCh38 positions, which are lifted to GRCh37 when a "
            "liftover chain is available (inspect_input says whether it is)"
        )
    return VcfFacts(
        path=path,
        samples=header.samples,
        record_count=inspection.counts.records,
        genome_build=header.genome_build,
        contig_naming=header.contig_naming,
        is_gvcf=preview.is_gvcf,
        warnings=warnings,
        default_sample=preview.default_sample,
        sample_calls=inspection.sample_calls(),
        malformed_records=inspection.counts.malformed,
    )


def sample_names_text(names: list[str]) -> str:
    """A VCF's sample names for display: the first few, then how many more (one function for every message)."""
    from just_dna_pipelines.io.vcf_samples import list_samples

    return list_samples(names)


def upload_path(user: str, filename: str) -> Path:
    """Where an upload of `filename` by `user` is stored: `{INPUT_DIR}/users/{user}/{sample}{suffix}`, a name
    that gives back `sample` (keys.stored_sample_name), so the file is found as that sample's."""
    from just_dna_pipelines.keys import stored_sample_name

    suffix = input_suffix(filename)
    if suffix is None:
        raise VcfError(
            f"{filename} is not a .vcf, .vcf.gz or .bcf file, nor a DNA-test raw file (.txt, .csv, .gz or .zip)"
        )
    sample = stored_sample_name(filename, suffix)
    folder = get_settings().user_input_dir(validate_name(user, "user name"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{sample}{suffix}"


def register_sample(user: str, sample: str, vcf_path: Path | None = None) -> str:
    """Add the `user/sample` partition for a stored VCF (found by name when not given) and return its key."""
    key = make_partition_key(user, sample)
    if vcf_path is None:
        find_user_vcf(user, sample)
    instance = _instance()
    if not instance.has_dynamic_partition(PARTITIONS, key):
        instance.add_dynamic_partitions(PARTITIONS, [key])
    return key


def module_catalog(source: str | None = None) -> ModuleCatalog:
    """The modules on offer; when the default Hugging Face source is unreachable, the demo set, saying so."""
    from just_dna_pipelines.modules.registry import list_modules as registry_modules

    wanted = source or get_settings().modules_source
    try:
        return ModuleCatalog(registry_modules(wanted), wanted, None)
    except ModuleSourceError:
        if source is not None or not wanted.startswith("hf://"):
            raise
        notice = (
            f"The module source {wanted} is unreachable and not cached here, "
            "so the built-in demo modules (synthetic data, not for interpretation) are shown instead."
        )
        return ModuleCatalog(registry_modules("demo"), "demo", notice)


def list_modules(source: str | None = None) -> list[ModuleInfo]:
    """The modules available from `source` (default: the configured source, falling back to demo offline)."""
    return module_catalog(source).modules


def prepare_instance() -> None:
    """Create or migrate the Dagster instance once, under a lock; raise PipelineError saying what to do if damaged."""
    from just_dna_pipelines.runs.instance import prepare_instance as prepare

    prepare()


# What a person at the web app can do when the Ensembl reference cannot be had.
WEB_ENSEMBL_HINT = (
    "untick Ensembl variant annotations to run the modules alone, or try again online "
    "(the server's JUST_DNA_PIPELINES_ENSEMBL_SOURCE may also name a local copy)"
)


def launch_run(
    user: str,
    sample: str,
    modules: list[str],
    *,
    report: bool = True,
    engine: str = "polars",
    modules_source: str | None = None,
    sample_column: str | None = None,
) -> str:
    """Queue a run annotating (and reporting) a sample; return its run id at once (it starts when a slot is free).

    `modules` may include "ensembl" (ENSEMBL_MODULE): the sample's variants are then also annotated from the
    Ensembl reference (every record is read), and its rsIDs fill those the VCF lacks for module matching.
    Raises PipelineError when the sample already has a run queued or running.
    """
    from just_dna_pipelines.runs.launcher import submit
    from just_dna_pipelines.runs.sample_claim import wait_for_an_ended_run

    if not modules:
        raise ModuleSourceError("no modules chosen")
    ensembl = ENSEMBL_MODULE in modules
    wanted = [m for m in modules if m != ENSEMBL_MODULE]
    catalog = module_catalog(modules_source) if wanted else None
    chosen = []
    if catalog is not None:
        usable = [m.name for m in catalog.modules if m.usable]
        refused = {m.name: "; ".join(m.notes) for m in catalog.modules if not m.usable}
        chosen = choose_modules(usable, wanted, refused)
    vcf_path = find_user_vcf(user, sample)
    if ensembl:  # offline with nothing cached: said now, not as a failed run that skipped the modules too
        from just_dna_pipelines.ensembl.cache import check_reachable

        check_reachable(get_settings().ensembl_source, hint=WEB_ENSEMBL_HINT)
    # Validated before the partition exists, so a refused launch registers nothing.
    key = register_sample(user, sample, vcf_path)
    request = RunRequest(
        partition_key=key,
        vcf_path=str(vcf_path),
        modules=chosen,
        modules_source=catalog.source if catalog is not None else "",
        engine=engine,
        report=report and bool(chosen),
        ensembl=ensembl,
        ensembl_source=get_settings().ensembl_source,  # explicit: the worker may hold other settings
        sample_column=sample_column,
    )
    # a run of the sample that has just ended lets it go a moment later: waited for here, in the click's own thread
    # (the run worker's one loop answers everyone's clicks)
    wait_for_an_ended_run(_instance(), key)
    try:
        return submit(request)
    except PipelineError:
        if not vcf_path.exists():  # deleted meanwhile: the partition registered above goes with it
            from just_dna_pipelines.runs.execute import forget_partition_if_unused

            forget_partition_if_unused(key)
        raise


def ensembl_entry() -> ModuleInfo:
    """The Ensembl variant annotation as an entry of the module list (name "ensembl"); reads no network."""
    from just_dna_pipelines.ensembl.status import reference_status

    status = reference_status()
    return ModuleInfo(
        name=ENSEMBL_MODULE,
        title="Ensembl variant annotations",
        description="Every variant of the genome annotated from Ensembl's variation database (rsIDs, allele "
        "frequencies, clinical significance), as a table and an indexed VCF; fills rsIDs the VCF lacks, so "
        "more module sites can be tested. " + status.describe(),
        version=status.revision[:12] if status.revision else "not downloaded",
        source=status.source,
        weights_rows=0,
        annotations_rows=0,
        studies_rows=0,
    )


def warm_up() -> None:
    """Start the run worker now, so the first run starts at once, and end runs a crash left "running".

    Blocks a few seconds; call it from a thread.
    """
    from just_dna_pipelines.runs.launcher import warm_up as start_worker

    start_worker()


def get_run(run_id: str) -> RunInfo:
    """A run's status, with its place in the queue while queued; a run whose process died comes back failed."""
    from just_dna_pipelines.runs.events import run_info
    from just_dna_pipelines.runs.liveness import check_run
    from just_dna_pipelines.runs.pending import read_pending
    from just_dna_pipelines.runs.positions import queue_positions
    from just_dna_pipelines.runs.storage_reads import shared_read

    instance = _instance()
    record, _ = shared_read(instance, ("run", run_id), lambda: instance.get_run_record_by_id(run_id))
    if record is None:
        entry = read_pending(Path(instance.root_directory), run_id)
        if entry is not None:
            return _accepted_run(instance, entry)
        record = instance.get_run_record_by_id(run_id)  # created between the two looks?
        if record is None:
            raise KeyError(f"no run {run_id}")
    run = check_run(instance, record.dagster_run)
    queue = queue_positions(instance, _slots()) if _waiting(run) else None
    return run_info(instance, run, queue, record)


def _accepted_run(instance: DagsterInstance, entry: dict[str, Any]) -> RunInfo:
    """A run accepted a moment ago and being created: queued behind the others, or failed to be created."""
    from just_dna_pipelines.runs.pending import joining_queue, pending_info
    from just_dna_pipelines.runs.positions import queue_positions

    info = pending_info(entry)
    if info.finished:
        return info
    queue = queue_positions(instance, _slots(), joining_queue(Path(instance.root_directory)))
    position, estimate = queue.get(info.run_id, (None, None))
    return replace(info, queue_position=position, estimated_start_s=estimate)


def cancel_run(run_id: str) -> None:
    """Cancel a queued or running run (stopping its process) and remove its staging; PipelineError if it had ended."""
    from just_dna_pipelines.runs.cancel import cancel_run as cancel

    cancel(_instance(), run_id)


def run_events(run_id: str, after_cursor: int = -1) -> list[ProgressEvent]:
    """Progress events of a run newer than `after_cursor`."""
    from just_dna_pipelines.runs.events import run_events as read_events

    return read_events(_instance(), run_id, after_cursor)


def run_event_files(run_id: str) -> tuple[Path, ...]:
    """The files holding a run's events, whose stat tells a follower when to read them (() on other storages).

    See runs/event_files.py; `files_signature` of them changes with every write.
    """
    from just_dna_pipelines.runs.event_files import event_files

    return event_files(_instance(), run_id)


def sample_runs(user: str, sample: str) -> list[RunInfo]:
    """All runs of one sample, newest first (a run accepted a moment ago included)."""
    import dagster as dg

    from just_dna_pipelines.runs.events import run_info
    from just_dna_pipelines.runs.liveness import check_run
    from just_dna_pipelines.runs.pending import joining_queue, pending_info, pending_of
    from just_dna_pipelines.runs.positions import queue_positions
    from just_dna_pipelines.runs.storage_reads import shared_read

    key = make_partition_key(user, sample)
    instance = _instance()
    records, _ = shared_read(
        instance,
        ("sample", key),
        lambda: instance.get_run_records(filters=dg.RunsFilter(tags={"dagster/partition": key})),
    )
    runs = [check_run(instance, record.dagster_run) for record in records]
    home = Path(instance.root_directory)
    pending = [pending_info(entry) for entry in pending_of(home, key)]
    joining = joining_queue(home) if any(not info.finished for info in pending) else []
    queue = queue_positions(instance, _slots(), joining) if joining or any(map(_waiting, runs)) else {}
    infos = [
        replace(info, queue_position=queue[info.run_id][0], estimated_start_s=queue[info.run_id][1])
        if info.run_id in queue
        else info
        for info in pending
    ]
    return infos + [run_info(instance, run, queue, record) for run, record in zip(runs, records, strict=True)]


def report_path(user: str, sample: str) -> Path | None:
    """The finished HTML report of a sample, or None."""
    path = _sample_dir(user, sample) / "reports" / "longevity_report.html"
    return path if path.is_file() else None


@dataclass(frozen=True)
class SampleResults:
    """What a sample's folders hold now: the report, the downloads, and the run and person they are of."""

    report: Path | None  # the finished HTML report
    files: dict[str, Path]  # downloadable outputs by name
    run_id: str | None  # the run whose module results (and so whose report) these are
    person: str | None  # whose genotypes: the VCF's sample column they were read from


def sample_results(user: str, sample: str) -> SampleResults:
    """A sample's current report, downloads and the facts of the run that made its module results."""
    from just_dna_pipelines.annotation.manifest import current_manifest

    manifest = current_manifest(_sample_dir(user, sample) / "modules")
    facts = manifest.get("input")
    person = facts.get("sample_column") if isinstance(facts, dict) else None
    run_id = manifest.get("run_id")
    return SampleResults(
        report=report_path(user, sample),
        files=sample_output_files(user, sample, manifest),
        run_id=str(run_id) if run_id else None,
        person=str(person) if person else None,
    )


def sample_output_files(user: str, sample: str, manifest: dict[str, Any] | None = None) -> dict[str, Path]:
    """Downloadable outputs of a sample by file name (report HTML, per-module CSV and Parquet, Ensembl files).

    A module that was skipped (none of its sites testable) leaves an empty results table: not offered (`manifest`:
    the module results' manifest, if already read).
    """
    from just_dna_pipelines.annotation.manifest import current_manifest

    folder = _sample_dir(user, sample)
    if manifest is None:
        manifest = current_manifest(folder / "modules")
    entries = manifest.get("modules")
    not_done = {
        str(entry.get("output"))
        for entry in (entries.values() if isinstance(entries, dict) else ())
        if isinstance(entry, dict) and entry.get("status") != "done" and entry.get("output")
    }
    files: dict[str, Path] = {}
    for sub in ("reports", "modules"):
        if (folder / sub).is_dir():
            for path in sorted((folder / sub).iterdir()):
                if (
                    path.is_file()
                    and not path.name.startswith(".")
                    and path.suffix in {".html", ".csv", ".parquet"}
                    and not (sub == "modules" and path.name in not_done)
                ):
                    files.setdefault(path.name, path)
    for name, file_name in ENSEMBL_DOWNLOADS.items():
        path = folder / "ensembl" / file_name
        if path.is_file():
            files[name] = path
    return files


def delete_sample(user: str, sample: str) -> list[str]:
    """Delete a sample: cancel its runs (waiting for them to stop), then its uploads, outputs, staging, runs
    and Dagster partition, leaving no trace of them in the instance's databases; return what was deleted."""
    deleted = _delete_sample(user, sample)
    _tidy_storage(_instance(), deleted)
    return deleted


def _tidy_storage(instance: DagsterInstance, deleted: list[str]) -> None:
    """After a deletion: compact the instance's databases if anything went, and remove the claim files of killed
    commands (each a digest of a user/sample)."""
    from just_dna_pipelines.runs.forget import compact_storage
    from just_dna_pipelines.runs.sample_claim import CLAIMS_FOLDER, remove_stale_claims

    if deleted:
        compact_storage(instance)
    remove_stale_claims(Path(instance.root_directory) / CLAIMS_FOLDER)


def _delete_sample(user: str, sample: str) -> list[str]:
    """delete_sample without compacting the databases (a user's deletion compacts them once at its end)."""
    from just_dna_pipelines.keys import sample_name_from_filename

    key = make_partition_key(user, sample)
    deleted: list[str] = []
    instance = _instance()
    deleted += _delete_runs(instance, user, sample)
    deleted += _delete_normalized_ahead(lambda other: other == key)
    for path in user_vcf_files(user):
        if sample_name_from_filename(path.name) == sample:
            path.unlink(missing_ok=True)
            deleted.append(f"upload {path.name}")
    folder = _sample_dir(user, sample)
    if folder.exists():
        shutil.rmtree(folder)
        deleted.append(f"outputs of {sample}")
    # A Run click in another tab may have landed meanwhile (its run fails on the missing upload): it goes too, so a
    # new sample of this name never shows it.
    deleted += _delete_runs(instance, user, sample)
    if instance.has_dynamic_partition(PARTITIONS, key):
        instance.delete_dynamic_partition(PARTITIONS, key)
        deleted.append(f"partition {key}")
    return deleted


def _delete_normalized_ahead(deleted: Callable[[str], bool]) -> list[str]:
    """Remove the tables commands killed outright left normalized ahead for the samples being deleted."""
    from just_dna_pipelines.annotation.normalize_ahead import remove_left_for
    from just_dna_pipelines.staging import staging_root

    removed = remove_left_for(staging_root(), deleted)
    return [f"{removed} table(s) a stopped command had normalized ahead"] if removed else []


def _delete_runs(instance: DagsterInstance, user: str, sample: str) -> list[str]:
    """Cancel the sample's runs (waiting for them to stop; PipelineError if one would not), then delete them with
    their staging and pending records; return what was deleted."""
    from just_dna_pipelines.defs.annotation.io_managers import remove_run_staging
    from just_dna_pipelines.runs.cancel import cancel_run as cancel
    from just_dna_pipelines.runs.forget import forget_run
    from just_dna_pipelines.runs.pending import remove_pending

    deleted: list[str] = []
    runs = sample_runs(user, sample)
    staged: dict[str, int | None] = {}
    for run in runs:
        if not run.finished:
            try:
                staged[run.run_id] = cancel(instance, run.run_id).staged_bytes
                deleted.append(f"canceled run {run.run_id}")
            except PipelineError:
                current = instance.get_run_by_id(run.run_id)
                if current is not None and not current.is_finished:
                    raise  # it would not stop: deleting under it would leave it writing a sample of that name
    for run in runs:
        size = remove_run_staging(run.run_id) or staged.get(run.run_id)
        if size is not None:
            deleted.append(f"unfinished files of run {run.run_id} ({size / 1e6:.1f} MB)")
        remove_pending(Path(instance.root_directory), run.run_id)
        forget_run(instance, run.run_id)
    if runs:
        deleted.append(f"{len(runs)} run(s)")
    return deleted


def delete_user(user: str) -> list[str]:
    """Delete every sample, upload and output of a user (canceling their runs first); return what was deleted."""
    validate_name(user, "user name")
    settings = get_settings()
    deleted: list[str] = []
    instance = _instance()
    prefix = f"{user}/"
    # Every sample with a partition or a run: a failed command's sample loses its partition but keeps its runs
    # (shown again to a new account of the same name).
    keys = {key for key in instance.get_dynamic_partitions(PARTITIONS) if key.startswith(prefix)}
    for tag_key, values in instance.get_run_tags(tag_keys=["dagster/partition"], value_prefix=prefix):
        if tag_key == "dagster/partition":
            keys.update(value for value in values if value.startswith(prefix))
    for key in sorted(keys):
        try:
            owner, sample = parse_partition_key(key)
        except InvalidKeyError:
            continue  # a run tagged by hand with a key no sample can have
        deleted.extend(_delete_sample(owner, sample))
    # also those of samples with no run nor partition yet (their command was killed before it made its run)
    deleted += _delete_normalized_ahead(lambda key: key.startswith(prefix))
    for folder in (settings.user_input_dir(user), settings.output_dir / "users" / user):
        if folder.exists():
            shutil.rmtree(folder)
            deleted.append(f"folder {folder}")
    _tidy_storage(instance, deleted)
    return deleted


def _instance() -> DagsterInstance:
    from just_dna_pipelines.runs.instance import get_instance

    return get_instance()


def _slots() -> int:
    return get_settings().max_concurrent_runs


def _waiting(run: DagsterRun) -> bool:
    return run.status.value in {"QUEUED", "NOT_STARTED"}


def _sample_dir(user: str, sample: str) -> Path:
    make_partition_key(user, sample)
    return get_settings().sample_output_dir(user, sample)

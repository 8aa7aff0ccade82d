"""Owner-checked access to a user's samples, runs and result files, on top of `just_dna_pipelines.service`.

Every function takes the authenticated `CurrentUser`; a sample or run that is not theirs is reported as
not found, so nobody learns what others have.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, func, select, update

from just_dna_pipelines import service
from just_dna_pipelines.errors import PipelineError
from just_dna_pipelines.keys import InvalidKeyError, parse_partition_key, validate_name
from webui.config import get_web_settings
from webui.db import (
    AuthSession,
    LoginFailure,
    LoginTicket,
    ModuleChoice,
    RunRecord,
    SampleRecord,
    UploadReservation,
    User,
    db_session,
    lock_for_key,
)
from webui.db_compact import compact_tables
from webui.services.accounts import CurrentUser
from webui.services.errors import NotFoundError, WebError, shown

STATUS_BY_RUN = {
    "queued": "queued",
    "starting": "running",
    "running": "running",
    "success": "done",
    "failure": "failed",
    "canceled": "canceled",  # the person stopped it: not a failure of theirs or of the genome
}


@dataclass(frozen=True)
class SampleView:
    """One row of the sample list."""

    name: str
    filename: str
    size_bytes: int
    record_count: int
    genome_build: str
    vcf_samples: str  # for display: the first few names, then how many more
    uploaded_at: float
    input_kind: str  # "vcf" or "array"
    vcf_sample_list: list[tuple[str, int | None]]  # the VCF's samples with their calls in the first records
    sample_column: str  # the VCF sample read ("" for arrays)
    vendor: str
    call_rate: float | None
    notes: list[str]
    status: str  # uploaded, queued, running, done, failed, canceled
    last_run_at: float | None
    last_run_id: str | None


def _owned_sample(user: CurrentUser, sample: str) -> SampleRecord:
    """The user's sample record named `sample`; NotFoundError otherwise."""
    try:
        validate_name(sample, "sample name")
    except InvalidKeyError as exc:
        raise NotFoundError(f"no sample {sample!r}") from exc
    with db_session() as db:
        row = db.exec(
            select(SampleRecord).where(SampleRecord.user_id == user.id, SampleRecord.name == sample)
        ).first()
    if row is None:
        raise NotFoundError(f"no sample {sample!r}")
    return row


def _sample_list(row: SampleRecord) -> list[tuple[str, int | None]]:
    """The VCF's samples with their calls (older rows: names only, from the display list)."""
    if row.samples_json:
        return [(item["name"], item.get("calls")) for item in json.loads(row.samples_json)]
    return [(name, None) for name in row.vcf_samples.split(", ") if name]


def _view(user: CurrentUser, row: SampleRecord, runs: list[service.RunInfo] | None = None) -> SampleView:
    """A sample row with its status derived from its newest run (`runs`: the sample's runs, if already read)."""
    if runs is None:
        runs = service.sample_runs(user.name, row.name)
    newest = runs[0] if runs else None
    return SampleView(
        name=row.name,
        filename=row.filename,
        size_bytes=row.size_bytes,
        record_count=row.record_count,
        genome_build=row.genome_build,
        # a 1000 Genomes VCF names 2,504: the first few, then how many more
        vcf_samples=service.sample_names_text(row.vcf_samples.split(", ")) if row.vcf_samples else "",
        uploaded_at=row.uploaded_at,
        input_kind=row.input_kind or "vcf",
        vcf_sample_list=_sample_list(row),
        sample_column=row.sample_column,
        vendor=row.vendor,
        call_rate=row.call_rate if row.call_rate >= 0 else None,
        notes=[note for note in row.notes.split(" | ") if note],
        status=STATUS_BY_RUN.get(newest.status, newest.status) if newest else "uploaded",
        last_run_at=(newest.started_at or newest.ended_at) if newest else None,
        last_run_id=newest.run_id if newest else None,
    )


def list_samples(user: CurrentUser) -> list[SampleView]:
    """The user's samples, newest upload first."""
    with db_session() as db:
        rows = db.exec(
            select(SampleRecord)
            .where(SampleRecord.user_id == user.id)
            .order_by(col(SampleRecord.uploaded_at).desc())
        ).all()
    return [_view(user, row) for row in rows]


@dataclass(frozen=True)
class SamplePage:
    """What the sample page shows of one of the user's samples, read together."""

    view: SampleView
    runs: list[service.RunInfo]  # newest first
    report: Path | None  # the finished HTML report
    files: dict[str, Path]  # downloadable outputs by name
    report_person: str | None = None  # the VCF sample column the report is of (another may be chosen since)


def sample_page(user: CurrentUser, sample: str) -> SamplePage:
    """One of the user's samples with its runs, report and downloads: one ownership check and one read of the
    runs (with their queue places) instead of one for each part."""
    row = _owned_sample(user, sample)
    runs = service.sample_runs(user.name, row.name)
    results = service.sample_results(user.name, row.name)
    return SamplePage(
        view=_view(user, row, runs),
        runs=runs,
        report=results.report,
        files=results.files,
        report_person=results.person,
    )


# An upload that made no progress for this long died with its server (killed mid-upload): its name is free again
# and its staging folder is removed (uploads.py). An upload in progress renews its hold as chunks arrive.
STALE_RESERVATION_S = 15 * 60
RENEW_RESERVATION_S = 60.0


def name_taken(sample: str) -> WebError:
    """The error for an upload whose sample name the user has already."""
    return WebError(f"you already have a sample named {sample}; delete it first to replace it")


def reserve_name(user: CurrentUser, sample: str) -> None:
    """Hold `sample` for an upload in progress; WebError if the user has it already or is uploading it, or holds
    as many samples (kept or being uploaded) as an account may."""
    if sample_exists(user, sample):
        raise name_taken(sample)
    most = get_web_settings().max_samples_per_user
    with db_session() as db:
        lock_for_key(db, f"samples:{user.id}")  # two tabs counting at once cannot both take the last place
        stale = time.time() - STALE_RESERVATION_S
        db.exec(
            delete(UploadReservation).where(
                col(UploadReservation.user_id) == user.id, col(UploadReservation.created_at) < stale
            )
        )
        held = sum(
            db.exec(select(func.count()).select_from(table).where(table.user_id == user.id)).one()
            for table in (SampleRecord, UploadReservation)
        )
        if held >= most:
            raise WebError(
                f"your account holds {held:,} samples, the most one may here; delete one to upload another"
            )
        db.add(UploadReservation(user_id=user.id, name=sample))
        try:
            db.commit()
        except IntegrityError:
            raise WebError(
                f"{sample} is being uploaded already (in another tab?); wait for it to finish"
            ) from None


def renew_name(user: CurrentUser, sample: str) -> None:
    """Keep holding a name while its upload makes progress."""
    with db_session() as db:
        db.exec(
            update(UploadReservation)
            .where(col(UploadReservation.user_id) == user.id, col(UploadReservation.name) == sample)
            .values(created_at=time.time())
        )
        db.commit()


def release_name(user: CurrentUser, sample: str) -> None:
    """Free a name an upload held (after it was kept as a sample, or given up)."""
    with db_session() as db:
        db.exec(
            delete(UploadReservation).where(
                col(UploadReservation.user_id) == user.id, col(UploadReservation.name) == sample
            )
        )
        db.commit()


ACCOUNT_GONE = "your account was deleted while the file was checked; it was not kept"


def _account_exists(db: Session, user: CurrentUser) -> bool:
    return (
        db.exec(select(User.id).where(col(User.id) == user.id, col(User.name) == user.name)).first()
        is not None
    )


def add_sample(user: CurrentUser, sample: str, vcf_path: Path, facts: service.InputFacts) -> SampleView:
    """Register a stored, validated VCF (its name reserved by this upload) as the user's sample.

    The account may be deleted while its upload is checked (another tab). The sample's row is then refused in
    the same transaction that would add it, after that transaction holds the database's write lock (SQLite)
    or the account row's key lock (PostgreSQL): an upload finishing after the deletion left a genome on disk,
    a partition and a row naming the deleted account's id, which SQLite hands to the next account made.
    """
    with db_session() as db:
        if not _account_exists(db, user):
            raise WebError(ACCOUNT_GONE)
    service.register_sample(user.name, sample, vcf_path)
    row = SampleRecord(
        user_id=user.id,
        name=sample,
        filename=vcf_path.name,
        size_bytes=vcf_path.stat().st_size,
        record_count=facts.record_count,
        genome_build=facts.genome_build,
        vcf_samples=", ".join(facts.samples),
        input_kind=facts.input_kind,
        vendor=facts.vendor or "",
        call_rate=facts.call_rate if facts.call_rate is not None else -1.0,
        notes=" | ".join(facts.warnings)[:2000],
        samples_json=json.dumps(
            [{"name": n, "calls": (facts.sample_calls or {}).get(n)} for n in facts.samples[:1000]]
        ),
        sample_column=facts.default_sample or "",
    )
    try:
        with db_session() as db:
            db.add(row)
            db.flush()  # written first: from here no deletion of the account can commit before this ends
            if not _account_exists(db, user):
                raise WebError(ACCOUNT_GONE)
            db.exec(
                delete(UploadReservation).where(
                    col(UploadReservation.user_id) == user.id, col(UploadReservation.name) == sample
                )
            )
            db.commit()
    except (WebError, IntegrityError):  # PostgreSQL refuses the row itself (its account is gone: foreign key)
        with db_session() as db:
            if _account_exists(db, user):
                raise  # not this case: the caller removes its own file, and nothing of another sample goes
        service.delete_sample(user.name, sample)  # the partition and the stored file; no run has it yet
        raise WebError(ACCOUNT_GONE) from None
    return _view(user, row)


def sample_exists(user: CurrentUser, sample: str) -> bool:
    """Whether the user already has a sample of that name."""
    try:
        _owned_sample(user, sample)
    except NotFoundError:
        return False
    return True


def choose_vcf_sample(user: CurrentUser, sample: str, column: str) -> None:
    """Set which person (sample column) of a multi-sample VCF the user's runs read."""
    row = _owned_sample(user, sample)
    if column not in {name for name, _ in _sample_list(row)}:
        raise WebError(f"{shown(column)} is not a sample of {row.filename}")
    with db_session() as db:
        stored = db.get(SampleRecord, row.id)
        assert stored is not None
        stored.sample_column = column
        db.add(stored)
        db.commit()


def launch(user: CurrentUser, sample: str, modules: list[str]) -> str:
    """Start a run of the user's sample with `modules` (reading its chosen VCF sample); return its run id."""
    row = _owned_sample(user, sample)
    if not modules:
        raise WebError("tick at least one module")
    try:
        run_id = service.launch_run(user.name, sample, modules, sample_column=row.sample_column or None)
    except PipelineError as exc:
        raise WebError(str(exc)) from exc
    with db_session() as db:
        db.add(RunRecord(run_id=run_id, user_id=user.id, sample=sample, modules=",".join(modules)))
        db.commit()
    return run_id


@dataclass(frozen=True)
class OwnedRun:
    """A run the caller owns: its sample, status and chosen modules."""

    sample: str
    info: service.RunInfo
    modules: list[str]


def owned_run(user: CurrentUser, run_id: str) -> OwnedRun:
    """One of the user's runs; NotFoundError otherwise."""
    with db_session() as db:
        record = db.get(RunRecord, run_id)
    if record is not None and record.user_id != user.id:
        raise NotFoundError("no such run")
    try:
        info = service.get_run(run_id)
        owner, sample = parse_partition_key(info.partition_key)
    except (PipelineError, InvalidKeyError, KeyError, ValueError) as exc:
        raise NotFoundError("no such run") from exc
    if owner != user.name:
        raise NotFoundError("no such run")
    modules = info.modules or (record.modules.split(",") if record else [])
    return OwnedRun(sample, info, [m for m in modules if m])


def cancel_run(user: CurrentUser, run_id: str) -> None:
    """Cancel one of the user's queued or running runs; WebError (one line) if it has already ended."""
    owned_run(user, run_id)
    try:
        service.cancel_run(run_id)
    except PipelineError as exc:
        raise WebError(str(exc)) from exc


def results(user: CurrentUser, sample: str) -> service.SampleResults:
    """The user's `sample`'s report, downloads and the run and person they are of (a newer run replaces them)."""
    _owned_sample(user, sample)
    return service.sample_results(user.name, sample)


def output_files(user: CurrentUser, sample: str) -> dict[str, Path]:
    """The user's downloadable outputs of `sample` by name."""
    _owned_sample(user, sample)
    return service.sample_output_files(user.name, sample)


def delete_sample(user: CurrentUser, sample: str) -> list[str]:
    """Delete one of the user's samples (upload, outputs, reports, partition, history); return what went."""
    _owned_sample(user, sample)
    deleted = service.delete_sample(user.name, sample)
    with db_session() as db:
        db.exec(delete(RunRecord).where(col(RunRecord.user_id) == user.id, col(RunRecord.sample) == sample))
        db.exec(
            delete(SampleRecord).where(col(SampleRecord.user_id) == user.id, col(SampleRecord.name) == sample)
        )
        db.commit()
    compact_tables(RunRecord, SampleRecord, UploadReservation)  # an upload's reservation named the sample too
    return [*deleted, f"sample record {sample}"]


def delete_account(user: CurrentUser) -> list[str]:
    """Delete all the user's data (samples, uploads, outputs, runs, partitions), then the account; return what went.

    The data go first, so a failure (a run that would not stop) leaves the account to try again; then, once the
    account is gone and no upload can add to it (add_sample), whatever an upload stored meanwhile goes too.
    """
    deleted = service.delete_user(user.name)
    with db_session() as db:
        for table in (AuthSession, LoginTicket, RunRecord, SampleRecord, UploadReservation):
            db.exec(delete(table).where(col(table.user_id) == user.id))  # type: ignore[attr-defined]
        db.exec(delete(ModuleChoice).where(col(ModuleChoice.user_id) == user.id))
        # autoescape: a "_" or "%" in the name is a plain character, not a LIKE wildcard matching other names
        db.exec(
            delete(LoginFailure).where(
                col(LoginFailure.key).startswith(f"pair:{user.name}|", autoescape=True)
            )
        )
        db.exec(delete(User).where(col(User.id) == user.id))
        db.commit()
    compact_tables(
        AuthSession, LoginTicket, RunRecord, SampleRecord, UploadReservation, ModuleChoice, LoginFailure, User
    )
    deleted += service.delete_user(user.name)
    return [*deleted, f"account {user.name} and its sessions"]

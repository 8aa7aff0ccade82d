"""The sample list, upload (streamed in chunks) and the demo sample."""

from __future__ import annotations

import asyncio
import logging
import secrets

import reflex as rx

from webui import formatting
from webui.config import get_web_settings
from webui.routes import upload_keys
from webui.services import accounts, samples, uploads
from webui.services.accounts import CurrentUser
from webui.services.errors import AuthError, WebError, shown
from webui.services.samples import SampleView
from webui.services.uploads import ACCEPTED_KINDS
from webui.states.auth import AuthState
from webui.states.status_watch import UNFINISHED, WATCH_TICKET, set_changed, take_ticket, watch_statuses

UPLOAD_ID = "vcf_upload"
HOME_ROUTE = "/"


def rejection_message(rejected: list[str], max_upload_mb: int) -> str:
    """One line saying why the browser refused the picked file(s) ("name<TAB>size<TAB>codes" each)."""
    parts = [item.split("\t") for item in rejected] or [["file", "0", ""]]
    # the browser's name of the file, as a message may quote it: a bidi override or a newline in it written as an
    # escape, so it cannot reorder or add to the line
    name = shown(parts[0][0], 120) or "file"
    codes = set(",".join(part[2] for part in parts if len(part) > 2).split(","))
    if len(parts) > 1 or "too-many-files" in codes:
        return "upload one file at a time"
    if "file-too-large" in codes:
        return f"{name} is larger than the upload limit of {max_upload_mb:,} MB"
    return f"{name}: not a genome file this app reads; upload {ACCEPTED_KINDS}"


def source_label(view: samples.SampleView) -> str:
    """What kind of genome file a sample is: "VCF", "gVCF"-less plain words, or "23andMe raw data"."""
    if view.input_kind == "array":
        return f"{view.vendor or 'DNA-test'} raw data"
    return "VCF"


def sample_row(view: samples.SampleView) -> dict[str, str]:
    """A sample as plain strings for the UI."""
    array = view.input_kind == "array"
    return {
        "name": view.name,
        "filename": view.filename,
        "size": formatting.size(view.size_bytes),
        "records": f"{view.record_count:,}",
        "records_label": "SNPs" if array else "Records",
        "records_unit": "SNPs" if array else "records",
        "kind": source_label(view),
        "call_rate": f"{view.call_rate:.1%}" if view.call_rate is not None else "",
        "notes": formatting.sentences(view.notes),
        "build": view.genome_build,
        "vcf_samples": view.vcf_samples,
        "uploaded": formatting.when(view.uploaded_at),
        "status": view.status,
        "last_run": formatting.when(view.last_run_at),
    }


def upload_summary(view: samples.SampleView) -> str:
    """What the upload detected, in one line: kind, vendor, build, size in records or SNPs, call rate."""
    if view.input_kind == "array":
        facts = f"{source_label(view)}, {view.genome_build}, {view.record_count:,} SNPs"
        if view.call_rate is not None:
            facts += f", call rate {view.call_rate:.1%}"
    else:
        facts = f"{view.record_count:,} records, {view.genome_build}"
    notes = formatting.sentences(view.notes)
    return f"{view.name} ({facts})" + (f". {notes}" if notes else "")


class SamplesState(AuthState):
    """The logged-in user's samples and the upload in progress."""

    samples: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    loaded: rx.Field[bool] = rx.field(False)
    uploading: rx.Field[bool] = rx.field(False)
    upload_progress: rx.Field[int] = rx.field(0)
    upload_error: rx.Field[str] = rx.field("")
    upload_notice: rx.Field[str] = rx.field("")
    max_upload_mb: rx.Field[int] = rx.field(get_web_settings().max_upload_mb)
    _watch_ticket: str = ""

    async def _reload(self, user: CurrentUser) -> None:
        """Refresh the sample list (service calls off the event loop)."""
        views = await asyncio.to_thread(samples.list_samples, user)
        self._show_samples(user, views)
        self.loaded = True

    def _show_samples(self, user: CurrentUser, views: list[SampleView]) -> bool:
        """Show the samples; whether any has a run still queued or running."""
        set_changed(self, samples=[sample_row(v) for v in views])
        return any(v.status in UNFINISHED for v in views)

    @rx.event
    async def load(self):
        """On-load of the home page: require a session, list the samples, and follow their statuses while a run
        of one is queued or running."""
        user = self.page_user()
        if user is None:
            return rx.redirect("/login")
        self.upload_error = ""
        await self._reload(user)
        self._watch_ticket = secrets.token_hex(8)
        unfinished = any(row["status"] in UNFINISHED for row in self.samples)
        return SamplesState.follow_statuses if unfinished else None

    @rx.event(background=True)
    async def follow_statuses(self):
        """Re-list the samples every few seconds until no run of theirs is queued or running (a run that ended
        used to read "running" until the page was reloaded)."""
        async with self:
            claimed = take_ticket(self, WATCH_TICKET)
        if claimed is not None:
            await watch_statuses(
                self, HOME_ROUTE, WATCH_TICKET, claimed, samples.list_samples, self._show_samples
            )

    @rx.event
    def upload_progress_changed(self, progress: dict):
        """Upload progress from the browser (0..1 of the bytes sent)."""
        self.upload_progress = int(float(progress.get("progress", 0) or 0) * 100)

    @rx.event(background=True)
    async def receive_upload(self, chunk_iter: rx.UploadChunkIterator):
        """Stream the one uploaded file to disk chunk by chunk, validate it, and list the new sample."""
        async with self:
            try:
                user = self.current_user()
                # The upload request itself must carry this tab's upload key (routes.UploadKeyCheck).
                sent = upload_keys.pop(self.router.session.client_token, None)
                if not self.upload_key or sent != self.upload_key:
                    raise AuthError("please log in")
            except AuthError as exc:
                self.upload_error = str(exc)
                return
            self.uploading = True
            digest = self._session_digest
        sink: uploads.UploadSink | None = None
        message, error = "", ""
        try:
            async for chunk in chunk_iter:
                if sink is None:
                    async with self:
                        if self._holds(user, digest):
                            self.upload_error, self.upload_notice = "", ""
                    sink = await asyncio.to_thread(uploads.UploadSink, user, chunk.filename)
                elif chunk.filename != sink.original_name or (chunk.offset == 0 and sink.size > 0):
                    raise WebError("upload one file at a time")
                await asyncio.to_thread(sink.write, chunk.data)
            # No file at all: the browser refused the pick (upload_rejected says why) and sent an empty drop.
            if sink is not None:
                added = await asyncio.to_thread(sink.finish)
                message = upload_summary(added)
        except WebError as exc:
            error = str(exc)
        except Exception:  # a crash must not leave half a file behind or a silent UI
            logging.getLogger(__name__).exception("upload failed")
            error = "the upload failed on the server; please try again"
        finally:
            if error and sink is not None:
                await asyncio.to_thread(sink.abort)
        # The check can take a while: the tab may have changed hands (logout, another login) or its session
        # ended meanwhile. What the upload found is then told to nobody: the sample is listed for its owner
        # when they look again.
        still_theirs = await asyncio.to_thread(accounts.user_for_session, digest) == user
        async with self:
            if not (still_theirs and self._holds(user, digest)):
                return
            self.uploading, self.upload_progress = False, 0
            # A file was refused before its sink existed (a name taken or unusable) as much as after.
            if sink is not None or error:
                self.upload_error = error
                self.upload_notice = f"Added {message}" if message and not error else ""
            await self._reload(user)
        yield rx.clear_selected_files(UPLOAD_ID)

    def _holds(self, user: CurrentUser, digest: str) -> bool:
        """Whether this tab is still bound to `user`'s session `digest` (the session guard rebinds or wipes
        it when the tab changes hands); called with the state held."""
        return self._owner_id == user.id and self._session_digest == digest

    @rx.event
    async def add_demo(self):
        """Add the synthetic demo sample (works offline)."""
        try:
            user = self.current_user()
            view = await asyncio.to_thread(uploads.add_demo_sample, user)
        except WebError as exc:
            self.upload_error = str(exc)
            return
        self.upload_error, self.upload_notice = "", f"Added {view.name} (synthetic demo genotypes)"
        await self._reload(user)

    @rx.event
    def upload_rejected(self, rejected: list):
        """Files the browser refused before sending them: each arrives as "name<TAB>size<TAB>reason codes"."""
        self.upload_error = rejection_message([str(item) for item in rejected[:5]], self.max_upload_mb)

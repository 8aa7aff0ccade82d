"""The sample list, upload (streamed in chunks) and the demo sample."""

from __future__ import annotations

import asyncio

import reflex as rx

from webui import formatting
from webui.config import get_web_settings
from webui.services import samples, uploads
from webui.services.accounts import CurrentUser
from webui.services.errors import AuthError, WebError
from webui.states.auth import AuthState

UPLOAD_ID = "vcf_upload"


def sample_row(view: samples.SampleView) -> dict[str, str]:
    """A sample as plain strings for the UI."""
    return {
        "name": view.name,
        "filename": view.filename,
        "size": formatting.size(view.size_bytes),
        "records": f"{view.record_count:,}",
        "build": view.genome_build,
        "vcf_samples": view.vcf_samples,
        "uploaded": formatting.when(view.uploaded_at),
        "status": view.status,
        "last_run": formatting.when(view.last_run_at),
    }


class SamplesState(AuthState):
    """The logged-in user's samples and the upload in progress."""

    samples: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    loaded: rx.Field[bool] = rx.field(False)
    uploading: rx.Field[bool] = rx.field(False)
    upload_progress: rx.Field[int] = rx.field(0)
    upload_error: rx.Field[str] = rx.field("")
    upload_notice: rx.Field[str] = rx.field("")
    max_upload_mb: rx.Field[int] = rx.field(get_web_settings().max_upload_mb)

    async def _reload(self, user: CurrentUser) -> None:
        """Refresh the sample list (service calls off the event loop)."""
        views = await asyncio.to_thread(samples.list_samples, user)
        self.samples = [sample_row(v) for v in views]
        self.loaded = True

    @rx.event
    async def load(self):
        """On-load of the home page: require a session, then list the samples."""
        user = self.page_user()
        if user is None:
            return rx.redirect("/login")
        self.upload_error = ""
        await self._reload(user)
        return None

    @rx.event
    def upload_progress_changed(self, progress: dict):
        """Upload progress from the browser (0..1 of the bytes sent)."""
        self.upload_progress = int(float(progress.get("progress", 0) or 0) * 100)

    @rx.event(background=True)
    async def receive_upload(self, chunk_iter: rx.UploadChunkIterator):
        """Stream the uploaded file to disk chunk by chunk, validate it, and list the new sample."""
        async with self:
            try:
                user = self.current_user()
            except AuthError as exc:
                self.upload_error = str(exc)
                return
            self.uploading, self.upload_error, self.upload_notice = True, "", ""
        sinks: dict[str, uploads.UploadSink] = {}
        message, error = "", ""
        try:
            async for chunk in chunk_iter:
                sink = sinks.get(chunk.filename)
                if sink is None:
                    sink = sinks[chunk.filename] = await asyncio.to_thread(
                        uploads.UploadSink, user, chunk.filename
                    )
                await asyncio.to_thread(sink.write, chunk.data)
            added = [await asyncio.to_thread(sink.finish) for sink in sinks.values()]
            message = ", ".join(f"{v.name} ({v.record_count:,} records, {v.genome_build})" for v in added)
        except WebError as exc:
            error = str(exc)
        except Exception as exc:  # a crash must not leave half a file behind or a silent UI
            error = f"upload failed: {exc}"
        finally:
            for sink in sinks.values():
                if error:
                    await asyncio.to_thread(sink.abort)
        async with self:
            self.uploading, self.upload_progress = False, 0
            self.upload_error = error
            self.upload_notice = f"Added {message}" if message and not error else ""
            await self._reload(user)
        yield rx.clear_selected_files(UPLOAD_ID)

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
    def upload_rejected(self, rejected: list[dict]):
        """A file the browser refused (type or size) before sending it."""
        names = ", ".join(str(r.get("file", {}).get("path", "")) for r in rejected) or "file"
        self.upload_error = (
            f"{names}: not accepted; upload a .vcf, .vcf.gz or .bcf file up to {self.max_upload_mb} MB"
        )

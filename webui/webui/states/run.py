"""The live progress of one run, pushed over the websocket from a background loop."""

from __future__ import annotations

import asyncio
import secrets
import time

import reflex as rx

from just_dna_pipelines import service
from just_dna_pipelines.runs.event_files import files_signature, may_hold_events
from webui import formatting
from webui.security.guard import wipe_user_states
from webui.services import accounts, run_views, samples
from webui.services.errors import WebError
from webui.services.progress import ENSEMBL_MODULE, RunView, step_title
from webui.states.auth import AuthState
from webui.states.status_watch import on_page, set_changed, take_ticket
from webui.urls import result_links

POLL_SECONDS = 0.2
STATUS_SECONDS = 2.0
MISSING = object()  # a value never pushed yet
RUN_ROUTE = "run"  # the run page's route, as the router names it
REPORT_STEP = "longevity_report"  # the step that writes the HTML report
MAX_FOLLOW_SECONDS = 12 * 3600
FAILURE_HINT = (
    "Check the message above: most failures come from the input (a file that is truncated or has no "
    "genotypes) or a module or reference source that cannot be reached. Fix it and press Run again on the "
    "sample page; the full log is in the Dagster UI."
)


def queue_text(info: service.RunInfo) -> str:
    """Where a queued run stands, in words: its place in the queue and when it should start."""
    if info.status != "queued" or info.queue_position is None:
        return ""
    ahead = info.queue_position - 1
    place = "next to start" if ahead == 0 else f"{ahead} run{'s' if ahead != 1 else ''} ahead of it"
    text = f"Waiting in the queue: position {info.queue_position} ({place})"
    if info.estimated_start_s is not None:
        text += f"; expected to start {formatting.expected_wait(info.estimated_start_s)}"
    return text + ". Runs take turns so the app stays quick for everyone."


REPLACED_NOTICE = (
    "A later run of this sample replaced this run's report and results: open the sample for them."
)


def page_values(
    info: service.RunInfo,
    view: RunView,
    with_view: bool,
    links: tuple[str, list[dict[str, str]]] | None,
    replaced: bool = False,
) -> dict[str, object]:
    """What the run page shows of a run: its status line always, the progress rows of `view` when `with_view`,
    the report and downloads when `links` were read, and a notice instead when a later run `replaced` them."""
    started = info.started_at or (time.time() if not info.finished else None)
    end = info.ended_at or time.time()
    error = ""
    if info.status == "canceled":
        error = "press Run on the sample page to start it again"
    elif info.finished and info.status != "success":
        error = formatting.for_user(info.error or view.failure_message or f"the run ended: {info.status}")
    values: dict[str, object] = {
        "status": info.status,
        "queue_text": queue_text(info),
        "elapsed": formatting.duration(end - started) if started else "",
        "error": error,
    }
    if with_view:
        values.update(  # copies: the view updates its rows in place, and the follower compares with the last push
            modules=[dict(row) for row in view.module_rows()],
            steps=[dict(row) for row in view.step_rows()],
            log=[dict(row) for row in view.log],
            current_step=step_title(view.current_step) if view.current_step else "",
            last_event_at=view.last_event_at,
        )
    if links is not None:
        values["report_url"], values["downloads"] = links
    if replaced:
        values["report_url"], values["downloads"], values["replaced_notice"] = "", [], REPLACED_NOTICE
    return values


class RunState(AuthState):
    """What the run page shows; `follow` keeps it current until the run ends."""

    run_id: rx.Field[str] = rx.field("")
    sample_name: rx.Field[str] = rx.field("")
    status: rx.Field[str] = rx.field("")
    not_found: rx.Field[bool] = rx.field(False)
    modules: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    steps: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    current_step: rx.Field[str] = rx.field("")
    log: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    elapsed: rx.Field[str] = rx.field("")
    error: rx.Field[str] = rx.field("")
    updates: rx.Field[int] = rx.field(0)
    last_event_at: rx.Field[float] = rx.field(0.0)
    report_url: rx.Field[str] = rx.field("")
    downloads: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    replaced_notice: rx.Field[str] = rx.field("")
    queue_text: rx.Field[str] = rx.field("")
    canceling: rx.Field[bool] = rx.field(False)
    cancel_error: rx.Field[str] = rx.field("")
    _ticket: str = ""
    _run_modules: list[str] = []

    @rx.event
    async def open(self):
        """On-load: check the run is the user's, reset the view and start following it."""
        user = self.page_user()
        if user is None:
            return rx.redirect("/login")
        run_id = self.router.url.query_parameters.get("id", "")
        try:
            owned = await asyncio.to_thread(samples.owned_run, user, run_id)
        except WebError:
            self.not_found, self.status, self.run_id = True, "", ""
            return None
        self.clear_view()
        self.run_id, self.sample_name, self._run_modules = run_id, owned.sample, owned.modules
        self.status = owned.info.status
        self.modules = RunView(modules=owned.modules).module_rows()
        return RunState.follow

    def clear_view(self) -> None:
        """Forget the previous run's view (so it never flashes on the next run's page) and stop its follower."""
        # Random, so no two backend workers (nor a wiped, reset state) ever hand out the same one.
        self._ticket = secrets.token_hex(8)
        self.not_found, self.status, self.error, self.updates = False, "", "", 0
        self.modules, self.steps, self.log, self.current_step = [], [], [], ""
        self.report_url, self.downloads, self.elapsed, self.last_event_at = "", [], "", 0.0
        self.queue_text, self.canceling, self.cancel_error, self.replaced_notice = "", False, "", ""

    @rx.event(background=True)
    async def follow(self):
        """Push the run's progress while its page is open: events as soon as they are written (their files are
        checked every POLL_SECONDS), status and queue place every STATUS_SECONDS; stop when the run has ended,
        the tab left the run page or the session ended."""
        async with self:
            ticket, run_id, sample = take_ticket(self, "_ticket"), self.run_id, self.sample_name
            modules = list(self._run_modules)
            digest = self._session_digest
        # None: this page's follower runs already (the event was sent again), or the page was never opened
        if ticket is None:
            return
        try:  # checked again here: an event can be sent without going through `open`
            user = await asyncio.to_thread(accounts.user_for_session, digest)
            if user is None:
                return
            info = (await asyncio.to_thread(samples.owned_run, user, run_id)).info
            event_files = await asyncio.to_thread(service.run_event_files, run_id)
        except WebError:
            return
        view = run_views.view_of(run_id, modules)  # the events this process already read of the run, folded
        begun = time.monotonic()
        last_status = begun  # `info` was read just now: re-read with the first events, or in STATUS_SECONDS
        read_signature: tuple[int, ...] | None = None
        report_shown = False
        first = True
        pushed: dict[str, object] = {}  # what this loop set on the page
        while time.monotonic() - begun < MAX_FOLLOW_SECONDS:
            due = time.monotonic() - last_status >= STATUS_SECONDS
            # A stat of the run's event files (microseconds) tells whether there is anything to read.
            signature = files_signature(event_files)
            events = []
            if may_hold_events(signature) and (signature is None or signature != read_signature or due):
                events = await asyncio.to_thread(service.run_events, run_id, view.cursor)
                read_signature = signature
            # The status changes with events; re-read it then (also on the first pass: the run may have ended since
            # `info` was read), and every STATUS_SECONDS in case a worker died.
            if events or due:
                # Nothing more is pushed once the session ends (logout elsewhere, expiry, deletion).
                if await asyncio.to_thread(accounts.user_for_session, digest) != user:
                    async with self:
                        await wipe_user_states(self._get_root_state())
                    return
                info = await asyncio.to_thread(service.get_run, run_id)
                last_status = time.monotonic()
            # drain what was written between the two reads
            if info.finished and may_hold_events(files_signature(event_files)):
                newest = max([view.cursor, *(e.cursor for e in events)])
                events += await asyncio.to_thread(service.run_events, run_id, newest)
            changed = view.apply(events)
            if changed:
                run_views.remember(run_id, view)
            changed = changed or first  # the page was cleared by `open`: it gets the whole view once
            if info.finished:
                view.finish(info.status)
                changed = True
            links, replaced = None, False
            # The report is on disk as soon as its step succeeded: show it without waiting for the run's end.
            if not report_shown and (view.step_done(REPORT_STEP) or info.status == "success"):
                links = await self._result_links(user, sample, run_id, modules)
                replaced, report_shown = links is None, True
            values = page_values(info, view, changed, links, replaced)
            if changed:
                values["updates"] = pushed.get("updates", 0) + 1  # type: ignore[operator]
            fresh = {name: value for name, value in values.items() if pushed.get(name, MISSING) != value}
            # The state is entered when something changed, and every STATUS_SECONDS to see the page is still open.
            if fresh or due:
                async with self:
                    if self._ticket != ticket or self.run_id != run_id or not on_page(self, RUN_ROUTE):
                        return  # reopened, moved to another run (that loop takes over) or left: stop
                    set_changed(self, **fresh)
                pushed.update(fresh)
            if info.finished:
                break
            first = False
            await asyncio.sleep(POLL_SECONDS)

    @staticmethod
    async def _result_links(
        user: accounts.CurrentUser, sample: str, run_id: str, modules: list[str]
    ) -> tuple[str, list[dict[str, str]]] | None:
        """The report URL (empty if none) and download links of a sample; None when they are no longer this
        run's: a later run of the sample with modules replaced its results (the page says so instead)."""
        found = await asyncio.to_thread(samples.results, user, sample)
        made_results = any(name != ENSEMBL_MODULE for name in modules)
        if made_results and found.run_id is not None and found.run_id != run_id:
            return None
        return result_links(user.name, sample, found.report, found.files)

    @rx.var
    def failure_hint(self) -> str:
        """What to do after a failure."""
        return FAILURE_HINT if self.error and self.status != "canceled" else ""

    @rx.var
    def failure_title(self) -> str:
        """The headline of the failure card."""
        return "Canceled:" if self.status == "canceled" else "The run failed:"

    @rx.var
    def can_cancel(self) -> bool:
        """Whether the run can still be canceled (queued, starting or running)."""
        return self.status in ("queued", "starting", "running") and self.run_id != ""

    @rx.event
    async def cancel(self):
        """Cancel this run (queued or running); the follower then shows it as canceled."""
        self.canceling, self.cancel_error = True, ""
        yield
        try:
            user = self.current_user()
            await asyncio.to_thread(samples.cancel_run, user, self.run_id)
        except WebError as exc:
            self.cancel_error = str(exc)
        self.canceling = False

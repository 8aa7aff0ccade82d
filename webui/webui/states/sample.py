"""One sample: module checklist, run launch, run history, report and downloads, deletion."""

from __future__ import annotations

import asyncio
import secrets

import reflex as rx

from just_dna_pipelines import service
from webui import formatting
from webui.services import accounts, samples
from webui.services.errors import WebError
from webui.services.module_choices import ModuleChoices, module_choices
from webui.states.auth import AuthState
from webui.states.open_tabs import forget_notice_later, forget_sample, in_user_tabs
from webui.states.run import RunState
from webui.states.samples import sample_row
from webui.states.status_watch import UNFINISHED, WATCH_TICKET, set_changed, take_ticket, watch_statuses
from webui.urls import result_links


def short_source(source: str) -> str:
    """A module source label fit for a narrow screen: local folders by their last two path parts."""
    if source.startswith("/"):
        parts = [p for p in source.split("/") if p]
        return "local …/" + "/".join(parts[-2:])
    return source


SAMPLE_ROUTE = "/sample"
ENSEMBL_ONLY_ON = "GRCh38"  # the Ensembl reference is GRCh38; it annotates VCFs on that build


DEMO_MODULES_NOTICE = (
    "These are the built-in demo modules: synthetic data for trying the app, not real findings."
)
DEMO_SAMPLE_NOTICE = (
    "The demo sample's genotypes are synthetic, made for the built-in demo modules: with these modules it "
    "matches next to nothing. Upload your own genome for a real report."
)


def modules_notice(choices: ModuleChoices, sample: dict[str, str]) -> str:
    """What to say above the checklist: the source's own notice, demo modules, or the demo sample on real ones."""
    from just_dna_pipelines.modules.demo import DEMO_SAMPLE, DEMO_VCF_NAME

    if choices.notice:
        return choices.notice
    if any(info.demo for info in choices.modules):
        return DEMO_MODULES_NOTICE
    demo_sample = sample.get("filename") == DEMO_VCF_NAME and sample.get("vcf_samples") == DEMO_SAMPLE
    return DEMO_SAMPLE_NOTICE if demo_sample and choices.modules else ""


def other_person_notice(report_person: str, chosen: str) -> str:
    """A notice when the shown report is of another person of the VCF than the one chosen now ("" if not)."""
    if not report_person or not chosen or report_person == chosen:
        return ""
    from just_dna_pipelines.errors import printable  # the VCF's own names: invisible controls as escapes

    return f"This report is of {printable(report_person)}. Press Run to make one for {printable(chosen)}."


def module_row(info: service.ModuleInfo, sample: dict[str, str] | None = None) -> dict[str, str]:
    """A module (or the Ensembl entry) as plain strings for the checklist; unusable ones say why."""
    notes = list(info.notes)
    usable = info.usable
    if info.name == service.ENSEMBL_MODULE:
        facts = f"Ensembl reference · {info.version} · {short_source(info.source)}"
        if sample is not None and (sample.get("kind") != "VCF" or sample.get("build") != ENSEMBL_ONLY_ON):
            usable = False
            notes.append("needs a GRCh38 VCF: the Ensembl reference is on GRCh38 and keyed by alleles")
    else:
        # weights rows are genotypes (two or three per site), not variants: the report counts sites
        facts = f"{info.weights_rows:,} genotypes · version {info.version} · {short_source(info.source)}"
    return {
        "name": info.name,
        "title": info.title,
        "description": info.description,
        "facts": facts,
        "demo": "yes" if info.demo else "",
        "usable": "yes" if usable else "",
        "notes": formatting.sentences(notes),
    }


CONTROL_HINT = "looks like a control"


def vcf_sample_options(view: samples.SampleView) -> list[dict[str, str]]:
    """A multi-sample VCF's people for the picker: value and a label with their calls (empty for one sample)."""
    from just_dna_pipelines.errors import printable
    from just_dna_pipelines.io.vcf_samples import looks_like_control

    if len(view.vcf_sample_list) < 2:
        return []
    options = []
    for name, calls in view.vcf_sample_list:
        facts = [f"{calls:,} calls in the first records"] if calls is not None else []
        if looks_like_control(name):
            facts.append(CONTROL_HINT)
        # the VCF's own text: an invisible control in a name shows as an escape (the value stays the name read)
        label = (printable(name) or "(empty name)") + (f" ({'; '.join(facts)})" if facts else "")
        options.append({"value": name, "label": label})
    return options


def run_row(info: service.RunInfo) -> dict[str, str]:
    """A run as plain strings for the history table."""
    took = (info.ended_at - info.started_at) if info.started_at and info.ended_at else None
    return {
        "run_id": info.run_id,
        "short_id": info.run_id[:8],
        "status": info.status,
        "modules": ", ".join(info.modules),
        "started": formatting.when(info.started_at),
        "took": formatting.duration(took),
    }


class SampleState(AuthState):
    """The sample page."""

    sample: rx.Field[dict[str, str]] = rx.field(default_factory=dict)
    sample_name: rx.Field[str] = rx.field("")
    not_found: rx.Field[bool] = rx.field(False)
    modules: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    selected: rx.Field[list[str]] = rx.field(default_factory=list)
    modules_notice: rx.Field[str] = rx.field("")
    modules_error: rx.Field[str] = rx.field("")
    runs: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    report_url: rx.Field[str] = rx.field("")
    downloads: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    run_error: rx.Field[str] = rx.field("")
    launching: rx.Field[bool] = rx.field(False)
    deleted: rx.Field[list[str]] = rx.field(default_factory=list)
    vcf_sample_options: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    vcf_sample: rx.Field[str] = rx.field("")
    report_person: rx.Field[str] = rx.field("")
    _watch_ticket: str = ""
    _deleted_sample: str = ""  # the sample this tab deleted last, for after_delete

    @rx.event
    async def load(self):
        """On-load: check the session and that the sample is the user's, then load everything; follow the sample's
        status while a run of it is queued or running."""
        user = self.page_user()
        if user is None:
            return rx.redirect("/login")
        name = self.router.url.query_parameters.get("name", "")
        self.sample_name, self.run_error, self.deleted, self.not_found = name, "", [], False
        # a status loop of the sample shown before stops, whatever this load finds
        self._watch_ticket = secrets.token_hex(8)
        try:  # one trip off the event loop: under load each trip waits its turn for a thread and the loop
            page, choices = await asyncio.to_thread(
                lambda: (samples.sample_page(user, name), module_choices(user))
            )
        except WebError:
            self.not_found, self.sample = True, {}
            return None
        self.sample = sample_row(page.view)
        self.vcf_sample_options = vcf_sample_options(page.view)
        self.vcf_sample = page.view.sample_column
        self._show_modules(choices)
        self._show_results(user, page)
        return SampleState.follow_status if page.view.status in UNFINISHED else None

    @rx.event(background=True)
    async def follow_status(self):
        """Re-read the sample's status, runs, report and downloads every few seconds until its run has ended (the
        page used to say "running" until reloaded). The checklist and the person chosen are left as they are."""
        async with self:  # the ticket and the sample it was issued for, together
            claimed, name = take_ticket(self, WATCH_TICKET), self.sample_name
        if claimed is not None:
            await watch_statuses(
                self,
                SAMPLE_ROUTE,
                WATCH_TICKET,
                claimed,
                lambda user: samples.sample_page(user, name),
                self._show_results,
            )

    def _show_modules(self, choices: ModuleChoices) -> None:
        """The module checklist, with the user's last choice ticked (all modules the first time)."""
        self.modules = [module_row(i, self.sample) for i in [*choices.modules, choices.ensembl]]
        self.modules_error = choices.error
        # Ticked by default: every usable module; the Ensembl annotation (a large download) only on request.
        names = [m["name"] for m in self.modules if m["usable"] and m["name"] != service.ENSEMBL_MODULE]
        self.modules_notice = modules_notice(choices, self.sample)
        usable = [m["name"] for m in self.modules if m["usable"]]
        remembered = choices.remembered
        self.selected = names if remembered is None else [n for n in usable if n in remembered]

    def _show_results(self, user: accounts.CurrentUser, page: samples.SamplePage) -> bool:
        """Status, run history, report link and downloads; whether a run of the sample is still unfinished."""
        report_url, downloads = result_links(user.name, page.view.name, page.report, page.files)
        set_changed(
            self,
            sample=sample_row(page.view),
            runs=[run_row(r) for r in page.runs],
            report_url=report_url,
            downloads=downloads,
            report_person=page.report_person or "",
        )
        return page.view.status in UNFINISHED

    @rx.var
    def other_person_notice(self) -> str:
        """Said above the report when it is of another person of a multi-sample VCF than the one now chosen."""
        return other_person_notice(self.report_person, self.vcf_sample if self.vcf_sample_options else "")

    @rx.event
    async def pick_vcf_sample(self, column: str):
        """The person in a multi-sample VCF whom the runs read."""
        try:
            user = self.current_user()
            await asyncio.to_thread(samples.choose_vcf_sample, user, self.sample_name, column)
        except WebError as exc:
            self.run_error = str(exc)
            return
        self.vcf_sample, self.run_error = column, ""

    @rx.event
    def toggle_module(self, name: str, checked: bool):
        """Tick or untick one module (only usable ones can be ticked)."""
        rest = [n for n in self.selected if n != name]
        usable = {m["name"] for m in self.modules if m["usable"]}
        self.selected = [*rest, name] if checked and name in usable else rest

    @rx.event
    def select_all(self):
        """Tick every usable module (the Ensembl annotation stays as it was: it is a large download)."""
        keep = [n for n in self.selected if n == service.ENSEMBL_MODULE]
        self.selected = [
            m["name"] for m in self.modules if m["usable"] and m["name"] != service.ENSEMBL_MODULE
        ] + keep

    @rx.event
    def select_none(self):
        """Untick every module."""
        self.selected = []

    @rx.event
    async def run(self):
        """Launch a run with the ticked modules (returns at once) and open its live progress page."""
        self.run_error, self.launching = "", True
        yield
        try:
            user = self.current_user()
            chosen = [m["name"] for m in self.modules if m["name"] in self.selected]
            run_id = await asyncio.to_thread(samples.launch, user, self.sample_name, chosen)
            # only a choice that ran is remembered: a refused one (say, Ensembl offline) would come back ticked
            await asyncio.to_thread(accounts.remember_modules, user, chosen)
        except WebError as exc:
            self.run_error, self.launching = str(exc), False
            return
        self.launching = False

        (await self.get_state(RunState)).clear_view()
        yield rx.redirect(f"/run?id={run_id}")

    @rx.event
    async def delete(self):
        """Delete the sample and everything derived from it; show what was deleted, and forget the sample in the
        user's other open tabs (their pages of it, their sample lists) and in this tab's other pages."""
        try:
            user = self.current_user()
            self.deleted = await asyncio.to_thread(samples.delete_sample, user, self.sample_name)
        except WebError as exc:
            self.run_error = str(exc)
            return
        self.sample, self.runs, self.report_url, self.downloads = {}, [], "", []
        self.report_person, self.vcf_sample_options, self.vcf_sample = "", [], ""
        self._deleted_sample = self.sample_name
        await forget_sample(self._get_root_state(), self.sample_name, keep_page=True)
        return SampleState.after_delete

    @rx.event(background=True)
    async def after_delete(self):
        """Forget the deleted sample in the user's other tabs (off this tab's lock: two tabs deleting at once would
        each wait for the other's), then clear this tab's confirmation once it left the page, or was closed."""
        async with self:  # claimed: a second call (the tab can send this event itself) finds nothing to do
            sample, self._deleted_sample = self._deleted_sample, ""
            owner, token = self._owner_id, self.router.session.client_token
        if not sample:
            return
        if owner is not None:
            await in_user_tabs(owner, token, lambda tab: forget_sample(tab, sample))
        await forget_notice_later(self, "/sample", {"deleted": [], "sample_name": ""})

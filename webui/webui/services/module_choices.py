"""What a sample page's module checklist offers a user, read in one go."""

from __future__ import annotations

from dataclasses import dataclass

from just_dna_pipelines import service
from just_dna_pipelines.errors import PipelineError
from webui.services import accounts


@dataclass(frozen=True)
class ModuleChoices:
    """What the checklist offers: the modules (or why none), the Ensembl entry and the user's last choice."""

    modules: list[service.ModuleInfo]
    error: str
    notice: str
    ensembl: service.ModuleInfo
    remembered: list[str] | None


def module_choices(user: accounts.CurrentUser) -> ModuleChoices:
    """The checklist's contents, read in one go (blocking: call it off the event loop)."""
    try:
        catalog = service.module_catalog()
        modules, error, notice = catalog.modules, "", catalog.notice or ""
    except PipelineError as exc:
        modules, error, notice = [], str(exc), ""
    return ModuleChoices(modules, error, notice, service.ensembl_entry(), accounts.remembered_modules(user))

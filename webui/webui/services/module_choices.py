"""What a sample page's module checklist offers a user, read in one go."""

from __future__ import annotations

from dataclasses import dataclass, replace

from just_dna_pipelines import service
from just_dna_pipelines.errors import PipelineError
from just_dna_pipelines.server_paths import hide_server_paths
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
    # What the page says of the source and of modules it cannot run names no server folder (the module source's own
    # label, `source`, is shortened where it is shown).
    modules = [
        replace(m, notes=tuple(hide_server_paths(n) for n in m.notes)) if m.notes else m for m in modules
    ]
    return ModuleChoices(
        modules,
        hide_server_paths(error),
        hide_server_paths(notice),
        service.ensembl_entry(),
        accounts.remembered_modules(user),
    )

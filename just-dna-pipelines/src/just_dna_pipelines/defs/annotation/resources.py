"""Resources of the annotation pipeline."""

from __future__ import annotations

import dagster as dg

from just_dna_pipelines.modules.sources import ResolvedModules, resolve_modules_source


class ModulesSource(dg.ConfigurableResource):
    """Where annotation modules come from: `hf://OWNER/REPO`, `demo`, or a local folder ("" = configured default)."""

    source: str = ""

    def resolve(self) -> ResolvedModules:
        """Make the module tables available locally and return where they are."""
        return resolve_modules_source(self.source or None)

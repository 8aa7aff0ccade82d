"""Resources of the Ensembl assets."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from just_dna_pipelines.ensembl.cache import DownloadProgress, EnsemblReference, ensure_reference
from just_dna_pipelines.ensembl.source import EnsemblSource as ParsedSource
from just_dna_pipelines.ensembl.source import parse_ensembl_source

# The resource download progress is reported to; the CLI binds its progress bar here.
PROGRESS_RESOURCE = "ensembl_progress"


def no_progress(contig: str, done: int, total: int) -> None:
    """Ignore download progress (the default outside the CLI)."""


class EnsemblSource(dg.ConfigurableResource):
    """Where the Ensembl reference comes from: `hf://OWNER/REPO[@revision]` or a local folder ("" = configured)."""

    source: str = ""

    def parsed(self) -> ParsedSource:
        """The source, parsed (one clear error when malformed)."""
        return parse_ensembl_source(self.source or None)

    def reference(
        self,
        contigs: Sequence[str] | None,
        *,
        update: bool = False,
        on_progress: DownloadProgress | None = None,
    ) -> EnsemblReference:
        """The reference files for `contigs`, downloading what is missing."""
        return ensure_reference(self.source or None, contigs, update=update, on_progress=on_progress)

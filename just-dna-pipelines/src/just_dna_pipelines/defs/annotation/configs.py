"""Run configuration of the annotation assets."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from just_dna_pipelines.io.vcf_filters import DEFAULT_PASSING_FILTERS, VcfFilters


class VcfSourceConfig(dg.Config):
    """Which file is the sample's VCF ("" = the user's upload named after the sample)."""

    vcf_path: str = ""


class NormalizeConfig(dg.Config):
    """Which sample column to read and which calls count."""

    sample_column: str | None = None
    passing_filters: list[str] | None = Field(default_factory=lambda: list(DEFAULT_PASSING_FILTERS))
    min_depth: int | None = None
    min_quality: float | None = None
    # "auto": read only the module sites through the index when the file is indexed and nothing is lost;
    # "full": always read every record.
    read_mode: str = "auto"

    def filters(self) -> VcfFilters:
        """The filters as the logic layer takes them."""
        return VcfFilters.from_options(self.passing_filters, self.min_depth, self.min_quality)


class AnnotateConfig(dg.Config):
    """Which modules, which engine, and an optional confident-regions BED proving hom-ref coverage."""

    modules: list[str] | None = None
    engine: str = "polars"
    confident_regions: str | None = None
    # Fill missing rsIDs from the sample's Ensembl annotation when one exists for this very VCF.
    use_ensembl_rsids: bool = True

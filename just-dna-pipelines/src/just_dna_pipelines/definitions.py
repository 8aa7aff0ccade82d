"""The one Dagster entry point: `dg dev` / `dagster dev -m just_dna_pipelines.definitions`.

The graph is built when the code location loads: one bundle of assets per module the configured source
holds on this machine (a module folder added later appears on the next reload, with no code change).
"""

import dagster as dg

from just_dna_pipelines.defs.annotation import annotation_definitions
from just_dna_pipelines.defs.annotation.module_sources import module_key
from just_dna_pipelines.defs.automation import reannotation_sensor
from just_dna_pipelines.defs.bam import bam_definitions
from just_dna_pipelines.defs.ensembl import ensembl_definitions
from just_dna_pipelines.defs.jobs import (
    annotate_and_report_job,
    annotate_sample_job,
    generate_longevity_report_job,
    observe_sources_job,
)
from just_dna_pipelines.defs.report import report_definitions
from just_dna_pipelines.modules.registry import graph_module_names


def build_definitions(module_names: list[str] | None = None) -> dg.Definitions:
    """Every definition of the project, for `module_names` (default: the configured source's modules)."""
    names = graph_module_names() if module_names is None else module_names
    return dg.Definitions.merge(
        annotation_definitions(names),
        report_definitions(),
        dg.Definitions(
            jobs=[
                generate_longevity_report_job,
                annotate_and_report_job,
                annotate_sample_job,
                observe_sources_job([module_key(name) for name in names]),
            ],
            sensors=[reannotation_sensor()],
        ),
        bam_definitions(),
        ensembl_definitions(),
    )


defs = build_definitions()

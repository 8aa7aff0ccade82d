"""The one Dagster entry point: `uv run dg dev` (or `dagster dev -m just_dna_pipelines.definitions`).

The graph is built when the code location loads: one bundle of assets per module the configured source
holds on this machine (a module folder added later appears on the next reload, with no code change).
Components declared in `defs/components/**/defs.yaml` are loaded by dg's defs-folder loader.
"""

import dagster as dg

from just_dna_pipelines.defs.annotation.module_sources import module_key
from just_dna_pipelines.defs.automation import reannotation_sensor
from just_dna_pipelines.defs.bam import bam_definitions
from just_dna_pipelines.defs.ensembl import ensembl_definitions
from just_dna_pipelines.defs.jobs import (
    annotate_sample_job,
    generate_longevity_report_job,
    observe_sources_job,
    sample_definitions,
)
from just_dna_pipelines.defs.whole_runs import whole_run_executor
from just_dna_pipelines.modules.registry import graph_module_names
from just_dna_pipelines.settings import REPO_ROOT


def build_definitions(module_names: list[str] | None = None) -> dg.Definitions:
    """Every definition of the project, for `module_names` (default: the configured source's modules)."""
    names = graph_module_names() if module_names is None else module_names
    return dg.Definitions.merge(
        sample_definitions(names),
        dg.Definitions(
            jobs=[
                generate_longevity_report_job,
                annotate_sample_job,
                observe_sources_job([module_key(name) for name in names]),
            ],
            sensors=[reannotation_sensor()],
            executor=whole_run_executor,  # every job without its own: a sample's run counts only as a whole
        ),
        bam_definitions(),
        ensembl_definitions(),
    )


def load_component_definitions() -> dg.Definitions:
    """The components declared in defs.yaml files under `defs/components/` ([tool.dg.project] defs_module)."""
    return dg.load_from_defs_folder(project_root=REPO_ROOT / "just-dna-pipelines")


defs = dg.Definitions.merge(build_definitions(), load_component_definitions())

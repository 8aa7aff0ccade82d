"""Run configuration for the per-sample jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from just_dna_pipelines.ensembl.engines import DEFAULT_ENGINE
from just_dna_pipelines.io.vcf_filters import DEFAULT_PASSING_FILTERS

ANNOTATE_JOB = "annotate_with_hf_modules_job"
ANNOTATE_AND_REPORT_JOB = "annotate_and_report_job"
REPORT_JOB = "generate_longevity_report_job"
ANNOTATE_SAMPLE_JOB = "annotate_sample_job"  # every per-sample asset; a run picks its subset
ENSEMBL_ASSETS = {"polars": "user_annotated_vcf", "duckdb": "user_annotated_vcf_duckdb"}


@dataclass(frozen=True)
class RunRequest:
    """Everything one run of a sample needs."""

    partition_key: str
    vcf_path: str
    modules: list[str] | None = None
    modules_source: str = ""
    engine: str = "polars"
    confident_regions: str | None = None
    sample_column: str | None = None
    passing_filters: list[str] | None = field(default_factory=lambda: list(DEFAULT_PASSING_FILTERS))
    min_depth: int | None = None
    min_quality: float | None = None
    read_mode: str = "auto"  # "auto": module sites only for indexed files; "full": every record
    report: bool = True
    console_log_level: str = "CRITICAL"  # Dagster's own console lines; the event log keeps everything
    # Ensembl variant annotation (the "ensembl" entry of the module list); modules may then be [] (none).
    ensembl: bool = False
    ensembl_engine: str = DEFAULT_ENGINE
    ensembl_source: str = ""

    @property
    def job_name(self) -> str:
        """The job this request runs."""
        if self.ensembl:
            return ANNOTATE_SAMPLE_JOB
        return ANNOTATE_AND_REPORT_JOB if self.report else ANNOTATE_JOB

    def module_names(self) -> list[str]:
        """What the run annotates with, as the user chose it: module names, plus "ensembl"."""
        modules = list(self.modules) if self.modules is not None else ([] if self.ensembl else ["all"])
        return modules + (["ensembl"] if self.ensembl else [])

    def asset_selection(self) -> list[str] | None:
        """The assets to run when the job covers more than this request wants (None: the whole job)."""
        if not self.ensembl:
            return None
        chosen = ["user_vcf_source", "user_vcf_normalized", ENSEMBL_ASSETS[self.ensembl_engine]]
        if self.modules != []:
            chosen.append("user_hf_module_annotations")
            chosen.extend(f"user_module_annotations/{name}" for name in self.modules or [])
            if self.report:
                chosen.append("user_longevity_report")
        return chosen

    def run_config(self) -> dict[str, Any]:
        """The Dagster run config (for the selected assets only, when the run is a subset of its job)."""
        ops = {
            "user_vcf_source": {"config": {"vcf_path": self.vcf_path}},
            "user_vcf_normalized": {
                "config": {
                    "sample_column": self.sample_column,
                    "passing_filters": self.passing_filters,
                    "min_depth": self.min_depth,
                    "min_quality": self.min_quality,
                    # The reference annotates every record, so every record is read.
                    "read_mode": "full" if self.ensembl else self.read_mode,
                }
            },
            "user_hf_module_annotations": {
                "config": {
                    "modules": self.modules,
                    "engine": self.engine,
                    "confident_regions": self.confident_regions,
                }
            },
        }
        resources = {"modules_source": {"config": {"source": self.modules_source}}}
        selection = self.asset_selection()
        if selection is not None:
            ops = {name: value for name, value in ops.items() if name in selection}
            resources["ensembl_source"] = {"config": {"source": self.ensembl_source}}
        return {
            "ops": ops,
            "resources": resources,
            "loggers": {"console": {"config": {"log_level": self.console_log_level}}},
        }

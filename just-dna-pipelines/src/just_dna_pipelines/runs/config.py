"""Run configuration for the per-sample jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from just_dna_pipelines.io.vcf_filters import DEFAULT_PASSING_FILTERS

ANNOTATE_JOB = "annotate_with_hf_modules_job"
ANNOTATE_AND_REPORT_JOB = "annotate_and_report_job"
REPORT_JOB = "generate_longevity_report_job"


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

    @property
    def job_name(self) -> str:
        """The job this request runs."""
        return ANNOTATE_AND_REPORT_JOB if self.report else ANNOTATE_JOB

    def run_config(self) -> dict[str, Any]:
        """The Dagster run config."""
        return {
            "ops": {
                "user_vcf_source": {"config": {"vcf_path": self.vcf_path}},
                "user_vcf_normalized": {
                    "config": {
                        "sample_column": self.sample_column,
                        "passing_filters": self.passing_filters,
                        "min_depth": self.min_depth,
                        "min_quality": self.min_quality,
                        "read_mode": self.read_mode,
                    }
                },
                "user_hf_module_annotations": {
                    "config": {
                        "modules": self.modules,
                        "engine": self.engine,
                        "confident_regions": self.confident_regions,
                    }
                },
            },
            "resources": {"modules_source": {"config": {"source": self.modules_source}}},
            "loggers": {"console": {"config": {"log_level": self.console_log_level}}},
        }

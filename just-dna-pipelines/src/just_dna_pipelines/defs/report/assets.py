"""The report asset: one self-contained HTML longevity report per sample, with CSV/Parquet downloads."""

import dagster as dg

from just_dna_pipelines.defs.annotation.partitions import user_vcf_files_partitions
from just_dna_pipelines.defs.automation import follow_upstream
from just_dna_pipelines.keys import parse_partition_key
from just_dna_pipelines.monitoring import ResourceTracker
from just_dna_pipelines.settings import get_settings


@dg.asset(
    partitions_def=user_vcf_files_partitions,
    deps=[dg.AssetKey("user_hf_module_annotations")],
    group_name="report",
    kinds={"html"},
    automation_condition=follow_upstream,
)
def user_longevity_report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """The longevity report (`reports/longevity_report.html`) of a sample, built from its module annotations."""
    # Imported here: a run without the report (and every code location load) skips Jinja2 and the templates.
    from just_dna_pipelines.report.build import REPORTS_FOLDER, build_report_data
    from just_dna_pipelines.report.render import REPORT_FILE, write_report

    user, sample = parse_partition_key(context.partition_key)
    sample_dir = get_settings().sample_output_dir(user, sample)
    with ResourceTracker() as tracker:
        data = build_report_data(sample_dir)
        paths = write_report(data, sample_dir / REPORTS_FOLDER)
    usage = tracker.usage
    html = paths[REPORT_FILE]
    context.log.info(f"report written to {html} ({html.stat().st_size:,} bytes)")
    overall = data.overall
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(html)),
            "duration_s": dg.MetadataValue.float(usage.duration_s),
            "cpu_percent": dg.MetadataValue.float(usage.cpu_percent),
            "peak_rss_mb": dg.MetadataValue.float(usage.peak_rss_mb),
            "size_bytes": html.stat().st_size,
            "variants": overall.total,
            "protective": overall.protective,
            "risk": overall.risk,
            "net_weight": dg.MetadataValue.float(round(overall.net_weight, 6)),
            "modules": dg.MetadataValue.json(
                {
                    m.name: {
                        "status": m.status,
                        "variants": m.tally.total,
                        "net_weight": round(m.tally.net_weight, 6),
                    }
                    for m in data.modules
                }
            ),
            "downloads": dg.MetadataValue.json(sorted(name for name in paths if name != REPORT_FILE)),
        }
    )

"""Render ReportData to the self-contained HTML report and write it, with per-module downloads, atomically."""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import jinja2
import polars as pl
from markupsafe import Markup

from just_dna_pipelines.errors import printable
from just_dna_pipelines.io.atomic import atomic_path
from just_dna_pipelines.keys import validate_name
from just_dna_pipelines.liftover.sites import MODULES_BUILD
from just_dna_pipelines.modules.schema import MATCHED_SCHEMA
from just_dna_pipelines.report.changes import write_snapshot
from just_dna_pipelines.report.chart import category_chart
from just_dna_pipelines.report.input_text import fmt_count
from just_dna_pipelines.report.model import ModuleSection, ReportData

REPORT_FILE = "longevity_report.html"
TEMPLATE = "longevity_report.html.j2"

# Download columns that name a position say in which build it is: the modules' (MODULES_BUILD) or the person's file's.
DOWNLOAD_RENAMES = {
    "chrom": f"chrom_{MODULES_BUILD.lower()}",
    "start": f"start_{MODULES_BUILD.lower()}",
    "sample_chrom": "chrom_in_file",
    "sample_start": "start_in_file",
}

# The module results as the annotation step wrote them, genotype as text ("A/G"), positions named by their build,
# plus what the report joined.
DOWNLOAD_SCHEMA: dict[str, pl.DataType] = {
    DOWNLOAD_RENAMES.get(name, name): pl.String() if name == "genotype" else dtype
    for name, dtype in MATCHED_SCHEMA.items()
} | {"file_build": pl.String(), "phenotype": pl.String(), "pmids": pl.String()}

# Text a spreadsheet would run as a formula when it opens the CSV (the module's text comes from a dataset anyone
# may publish): the same rule as the report's own CSV export (report.js).
FORMULA_START = r"^[=+\-@\t\r]"


def content_security_policy(script: str) -> str:
    """The report's own policy (a <meta> in its head, so it holds wherever the file is opened): its one inline
    script runs, by hash, and nothing else does: no other script, no event-handler attribute, no fetch, no form,
    no <base>. Text that ever got into the page unescaped could show, not run."""
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return (
        f"default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; "
        "base-uri 'none'; form-action 'none'"
    )


def fmt_weight(value: float) -> str:
    """A weight as the report shows it: signed, at most 4 decimals, no trailing zeros ("+0.14", "-0.175", "0")."""
    text = f"{value:+.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("+0", "-0") else text


def weight_class(value: float) -> str:
    """CSS class of a weight cell: its sign and one of three sizes."""
    if value == 0:
        return "w0"
    size = 1 if abs(value) < 0.1 else 2 if abs(value) < 0.3 else 3
    return f"{'wp' if value > 0 else 'wn'}{size}"


def report_template() -> jinja2.Template:
    """The compiled report template (the run worker compiles it before forking, so its runs inherit it)."""
    return _environment().get_template(TEMPLATE)


def render_html(data: ReportData) -> str:
    """The report as one self-contained HTML document."""
    template = report_template()
    script = _static("report.js")
    longevity = next((m for m in data.modules if m.categories), None)
    return template.render(
        data=data,
        chart=category_chart(longevity.categories, fmt_weight) if longevity else None,
        downloads={m.name: _download_names(m.name) for m in data.modules if m.done},
        modules_build=MODULES_BUILD,  # the build of every position the report shows (the modules' own)
        css=Markup(_static("report.css")),
        js=Markup(script),
        csp=content_security_policy(script),
    )


def write_report(data: ReportData, reports_dir: Path) -> dict[str, Path]:
    """Write the HTML report and each completed module's CSV and Parquet into `reports_dir`; return name -> path."""
    writers: dict[str, Callable[[Path], object]] = {}
    for module in data.modules:
        if not module.done:
            continue
        frame = variants_frame(module)
        csv_name, parquet_name = _download_names(module.name)
        writers[csv_name] = spreadsheet_safe(frame).write_csv
        writers[parquet_name] = frame.write_parquet
    html = render_html(data)

    def write_html(path: Path) -> None:
        path.write_text(html, encoding="utf-8")

    writers[REPORT_FILE] = write_html
    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    # Downloads first, the HTML last: a reader who sees the report can follow its links.
    written = {name: _write_atomically(reports_dir / name, write) for name, write in writers.items()}
    write_snapshot(reports_dir, data)  # what the next report of this sample compares itself with
    # Downloads of modules this run did not complete are stale: they would contradict the report.
    for stale in (*reports_dir.glob("*_variants.csv"), *reports_dir.glob("*_variants.parquet")):
        if stale.name not in written:
            stale.unlink(missing_ok=True)
    return written


def variants_frame(module: ModuleSection) -> pl.DataFrame:
    """A module's report rows as a flat table (the CSV/Parquet download)."""
    records = [
        {
            "module": v.module,
            "rsid": v.rsid,
            DOWNLOAD_RENAMES["chrom"]: v.chrom,
            DOWNLOAD_RENAMES["start"]: v.start,
            "ref": v.ref,
            "genotype": v.genotype,
            "gt": v.gt,
            "zygosity": v.zygosity,
            "weight": v.weight,
            "state": v.state,
            "priority": v.priority,
            "conclusion": v.conclusion,
            "gene": v.gene,
            "category": v.category,
            "phenotype": v.phenotype,
            "evidence": v.evidence,
            DOWNLOAD_RENAMES["sample_chrom"]: v.sample_chrom,
            DOWNLOAD_RENAMES["sample_start"]: v.sample_start,
            "file_build": v.sample_build,
            # each paper once: one paper may hold several study records (cohorts, outcomes) for a variant
            "pmids": ";".join(dict.fromkeys(s.pmid for s in v.studies if s.pmid)) or None,
        }
        for v in module.variants
    ]
    return pl.DataFrame(records, schema=DOWNLOAD_SCHEMA)


def spreadsheet_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` for the CSV download: a text cell a spreadsheet would take for a formula (starting with = + - @, a tab
    or a carriage return, and not a number) gets a leading '; the Parquet keeps the text as it is."""
    return frame.with_columns(
        pl.when(
            pl.col(name).str.contains(FORMULA_START) & pl.col(name).cast(pl.Float64, strict=False).is_null()
        )
        .then("'" + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    )


def _download_names(module: str) -> tuple[str, str]:
    """File names of a module's CSV and Parquet downloads (the module name is checked to be path-safe)."""
    name = validate_name(module, "module name")
    return f"{name}_variants.csv", f"{name}_variants.parquet"


def _write_atomically(path: Path, write: Callable[[Path], object]) -> Path:
    """Write through a temporary file in the same folder, then rename: the file appears whole or not at all, with
    the mode the umask gives."""
    with atomic_path(path) as tmp:
        write(tmp)
    return path


@functools.cache
def _environment() -> jinja2.Environment:
    """Jinja2 with autoescaping on for every template, and the report's formatting filters (one per process:
    the template is compiled once, and the run worker compiles it before it forks runs)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("just_dna_pipelines.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["weight"] = fmt_weight
    env.filters["count"] = fmt_count
    env.filters["wclass"] = weight_class
    # names from the person's file (its file name, the VCF's sample columns): bidi and zero-width controls written
    # as escapes, so they cannot reorder or hide what the report says around them
    env.filters["printable"] = printable
    return env


def _static(name: str) -> str:
    """An inline asset (CSS or JS) shipped beside the template; inserted verbatim, never through Jinja."""
    return (
        resources.files("just_dna_pipelines.report").joinpath("templates", name).read_text(encoding="utf-8")
    )

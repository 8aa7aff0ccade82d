"""What changed since a sample's previous report: variants added, removed or reweighted, and module versions.

Each report leaves a small snapshot of its scored variants and versions in `report_history/` beside the
reports folder (not a download); the next report of the same sample compares itself with that snapshot, unless
that report was of another person of a multi-sample VCF (then it only says so: one person's variants are never
listed as "added" or "removed" from another's).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from just_dna_pipelines.io.atomic import atomic_path, atomic_write_text
from just_dna_pipelines.report.model import Changes, ReportData, VariantChange

HISTORY_FOLDER = "report_history"
SNAPSHOT_ROWS = "previous_variants.parquet"
SNAPSHOT_FACTS = "previous_report.json"
KEY = ("module", "rsid", "genotype")
SNAPSHOT_SCHEMA = {"module": pl.String, "rsid": pl.String, "genotype": pl.String, "weight": pl.Float64}


def snapshot_rows(data: ReportData) -> pl.DataFrame:
    """The report's scored variants: module, rsid, genotype, weight."""
    rows = [
        {"module": v.module, "rsid": v.rsid or "", "genotype": v.genotype, "weight": v.weight}
        for m in data.modules
        if m.done
        for v in m.variants
    ]
    return pl.DataFrame(rows, schema=SNAPSHOT_SCHEMA)


def snapshot_facts(data: ReportData) -> dict[str, Any]:
    """When the report was made and from which module versions and reference revision."""
    return {
        "person": data.provenance.sample_column,  # the VCF's sample column read (None for a DNA-test file)
        "report_generated_at": data.provenance.report_generated_at,
        "modules": {m.name: m.version for m in data.modules if m.done},
        "module_hashes": {m.name: m.sha256 for m in data.modules if m.done},
        "rsid_fill_revision": data.provenance.rsid_fill_revision,
    }


def history_dir(reports_dir: Path) -> Path:
    """Where the snapshot of the reports in `reports_dir` is kept (beside it, so it is never a download)."""
    return Path(reports_dir).parent / HISTORY_FOLDER


def write_snapshot(reports_dir: Path, data: ReportData) -> None:
    """Leave this report's snapshot for the next one to compare with."""
    history = history_dir(reports_dir)
    with atomic_path(history / SNAPSHOT_ROWS) as tmp:
        snapshot_rows(data).write_parquet(tmp)
    facts = json.dumps(snapshot_facts(data), indent=2, sort_keys=True)
    atomic_write_text(history / SNAPSHOT_FACTS, facts)


def changes_since_previous(reports_dir: Path, data: ReportData) -> Changes | None:
    """Compare `data` with the previous report's snapshot; None when there was no previous report."""
    history = history_dir(reports_dir)
    rows_path, facts_path = history / SNAPSHOT_ROWS, history / SNAPSHOT_FACTS
    if not rows_path.is_file() or not facts_path.is_file():
        return None
    try:
        old = pl.read_parquet(rows_path)
        facts = json.loads(facts_path.read_text(encoding="utf-8"))
    except (OSError, ValueError, pl.exceptions.PolarsError):
        return None  # a damaged snapshot only costs the comparison, never the report
    person = data.provenance.sample_column
    if "person" in facts and facts["person"] != person:  # snapshots before the person was recorded: compared
        return Changes(
            previous_at=facts.get("report_generated_at"),
            added=(),
            removed=(),
            reweighted=(),
            modules_updated=(),
            reference_then=None,
            reference_now=None,
            other_person=str(facts["person"] or "another person"),
        )
    new = snapshot_rows(data)
    modules_then = facts.get("modules") or {}
    compared: list[str] | None = None
    if modules_then:  # only modules both reports ran: one not run in either has nothing added or removed
        compared = sorted(set(modules_then) & {m.name for m in data.modules if m.done})
        old, new = (rows.filter(pl.col("module").is_in(compared)) for rows in (old, new))
    both = old.join(new, on=list(KEY), how="inner", suffix="_new")
    reweighted = both.filter(pl.col("weight") != pl.col("weight_new"))
    hashes_then = facts.get("module_hashes") or {}
    updated = tuple(
        (m.name, str(modules_then.get(m.name)), str(m.version))
        for m in data.modules
        if m.done and m.name in hashes_then and hashes_then[m.name] != m.sha256
    )
    return Changes(
        previous_at=facts.get("report_generated_at"),
        added=_changes(new.join(old, on=list(KEY), how="anti"), "weight", None),
        removed=_changes(old.join(new, on=list(KEY), how="anti"), None, "weight"),
        reweighted=_changes(reweighted, "weight_new", "weight"),
        modules_updated=updated,
        reference_then=facts.get("rsid_fill_revision"),
        reference_now=data.provenance.rsid_fill_revision,
        compared=tuple(compared) if compared is not None else None,
    )


def _changes(frame: pl.DataFrame, now: str | None, then: str | None) -> tuple[VariantChange, ...]:
    return tuple(
        VariantChange(
            module=row["module"],
            rsid=row["rsid"] or None,
            genotype=row["genotype"],
            weight_now=row[now] if now else None,
            weight_then=row[then] if then else None,
        )
        for row in frame.sort(*KEY).iter_rows(named=True)
    )

"""Build the report data of one sample from its annotation folder and the module tables."""

from __future__ import annotations

import dataclasses
import json
import math
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from just_dna_pipelines import __version__
from just_dna_pipelines.errors import PipelineError
from just_dna_pipelines.modules.dropped import dropped_counts, untestable_drops
from just_dna_pipelines.modules.genotypes import effect_of
from just_dna_pipelines.modules.schema import KNOWN_MODULES
from just_dna_pipelines.report.categories import (
    LONGEVITY_CATEGORIES,
    module_title,
    reason_words,
    untestable_in_module_text,
)
from just_dna_pipelines.report.changes import changes_since_previous
from just_dna_pipelines.report.input_text import build_text, input_kind_text, input_warnings
from just_dna_pipelines.report.model import (
    CategorySection,
    Ledger,
    ModuleSection,
    Provenance,
    ReportData,
    Study,
    Tally,
    VariantRow,
)
from just_dna_pipelines.server_paths import hide_server_paths

CATEGORY_MODULE = "longevitymap"
REPORTS_FOLDER = "reports"
# The manifest and the rows are written together; their sums may differ only by float rounding.
NET_WEIGHT_TOLERANCE = 1e-6


class ReportInputError(PipelineError):
    """The annotation outputs of a sample are missing or inconsistent, so no report can be built."""


def build_report_data(sample_dir: Path, modules_root: Path | None = None) -> ReportData:
    """Read `{sample_dir}/modules/` (manifest + matched rows) and the module tables into one ReportData."""
    sample_dir = Path(sample_dir)
    manifest = read_manifest(sample_dir)
    if modules_root is None:
        root = (manifest.get("modules_source") or {}).get("root")
        modules_root = Path(root) if root else None
    entries: dict[str, dict[str, Any]] = manifest.get("modules") or {}
    input_facts = manifest.get("input") or {}
    sections = tuple(
        _module_section(
            name, entries[name] or {}, sample_dir / "modules", modules_root, input_facts.get("genome_build")
        )
        for name in _module_order(entries)
    )
    done_rows = [row for section in sections if section.done for row in section.variants]
    not_run = manifest.get("modules_not_run") or {}
    warnings = (
        *input_warnings(input_facts),
        *(
            f"The module {name} was not run: it cannot be run ({hide_server_paths(str(reason))})."
            for name, reason in not_run.items()
        ),
    )
    data = ReportData(
        user=str(manifest.get("user") or sample_dir.parent.name),
        sample=str(manifest.get("sample") or sample_dir.name),
        genome_build=input_facts.get("genome_build"),
        modules=sections,
        provenance=_provenance(manifest),
        overall=tally(done_rows),
        warnings=warnings,
    )
    return dataclasses.replace(data, changes=changes_since_previous(sample_dir / REPORTS_FOLDER, data))


def read_manifest(sample_dir: Path) -> dict[str, Any]:
    """The annotation manifest of a sample, or a ReportInputError saying annotation has not run."""
    path = sample_dir / "modules" / "manifest.json"
    if not path.is_file():
        raise ReportInputError(f"no annotation results at {path}: annotate the sample before reporting")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportInputError(f"unreadable annotation manifest {path}: {exc}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("modules", {}), dict):
        raise ReportInputError(f"malformed annotation manifest {path}: expected an object with 'modules'")
    return manifest


def tally(rows: Iterable[VariantRow]) -> Tally:
    """Count rows by their effect (modules/genotypes.effect_of, as the run's manifest does) and sum their weights."""
    rows = list(rows)
    effects = Counter(effect_of(r.weight, r.state) for r in rows)
    return Tally(
        total=len(rows),
        protective=effects["protective"],
        risk=effects["risk"],
        neutral=effects["neutral"],
        net_weight=math.fsum(r.weight for r in rows),
    )


def _module_order(entries: dict[str, Any]) -> list[str]:
    """longevitymap first, then the known modules in their usual order, then any others by name."""
    known = [name for name in KNOWN_MODULES if name in entries]
    return known + sorted(name for name in entries if name not in KNOWN_MODULES)


def _module_section(
    name: str, entry: dict[str, Any], results_dir: Path, modules_root: Path | None, sample_build: str | None
) -> ModuleSection:
    """One module's section: its rows joined to gene/phenotype/studies, tallied and checked against the manifest."""
    status = str(entry.get("status") or "failed")
    folder = modules_root / name if modules_root else None
    info = _module_info(folder)
    title_default, description_default = module_title(name)
    notes: list[str] = []
    rows: tuple[VariantRow, ...] = ()
    if status == "done":
        matched = _read_matched(results_dir / str(entry.get("output") or f"{name}_weights.parquet"), name)
        annotations, studies = _module_tables(folder, notes)
        rows = tuple(
            sorted(
                (_variant_row(name, r, annotations, studies, sample_build) for r in matched),
                key=lambda v: (-abs(v.weight), v.rsid or "", v.genotype),
            )
        )
    section_tally = tally(rows)
    if status == "done":
        _check_against_manifest(name, entry, section_tally)
    return ModuleSection(
        name=name,
        title=str(entry.get("title") or info.get("title") or title_default),
        description=str(info.get("description") or description_default),
        status=status,
        # the manifest keeps the failure as it was raised (the owner's record); the report names no server folder
        reason=hide_server_paths(str(entry["reason"])) if entry.get("reason") else None,
        version=entry.get("version") or info.get("version"),
        sha256=entry.get("sha256"),
        tally=section_tally,
        ledger=_ledger(entry.get("ledger"), _untestable_in_module(name, entry, info)),
        variants=rows,
        categories=_categories(rows) if name == CATEGORY_MODULE and status == "done" else (),
        notes=tuple(hide_server_paths(note) for note in notes),
        matched_via_filled_rsid=int(entry.get("matched_via_filled_rsid") or 0),
    )


def _read_matched(path: Path, module: str) -> list[dict[str, Any]]:
    """The matched rows of a completed module."""
    if not path.is_file():
        raise ReportInputError(f"module {module} is marked done but its results {path} are missing")
    try:
        return pl.read_parquet(path).to_dicts()
    except Exception as exc:  # polars raises several exception types for damaged files
        raise ReportInputError(f"unreadable module results {path}: {exc}") from exc


def _module_info(folder: Path | None) -> dict[str, Any]:
    """The optional module.json of a module folder (title, description, version)."""
    from just_dna_pipelines.modules.layouts import read_meta_file

    # as the catalog reads it (bounded): a module.json nested 100,000 deep raised RecursionError out of the report
    return read_meta_file(folder / "module.json") if folder else {}


def _module_tables(
    folder: Path | None, notes: list[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, list[Study]]]:
    """Annotations by rsid and studies by rsid from the module folder; notes say what was unavailable."""
    annotations: dict[str, dict[str, Any]] = {}
    studies: dict[str, list[Study]] = {}
    if folder is None or not folder.is_dir():
        notes.append("Gene notes and studies are unavailable: the module folder was not found.")
        return annotations, studies
    for row in _read_table(folder / "annotations.parquet", notes, "gene notes"):
        if row.get("rsid"):
            annotations.setdefault(row["rsid"], row)
    for row in _read_table(folder / "studies.parquet", notes, "studies"):
        if row.get("rsid"):
            studies.setdefault(row["rsid"], []).append(
                Study(
                    pmid=_text(row.get("pmid")),
                    population=_text(row.get("population")),
                    p_value=_text(row.get("p_value")),
                    conclusion=_text(row.get("conclusion")),
                    study_design=_text(row.get("study_design")),
                )
            )
    return annotations, studies


def _read_table(path: Path, notes: list[str], what: str) -> list[dict[str, Any]]:
    """Rows of an optional module table; a note instead of an error when it is absent or unreadable."""
    if not path.is_file():
        notes.append(f"The module's {what} are unavailable: {path.name} was not found.")
        return []
    from just_dna_pipelines.modules.layouts import table_bound

    if (too_large := table_bound(path)) is not None:  # 20 M rows in 0.2 MB took 52 s and 11 GB to read whole
        notes.append(f"The module's {what} are unavailable: {path.name} {too_large}.")
        return []
    try:
        # in the module source, whose folder may be named with [ ] * ?
        return pl.read_parquet(path, glob=False).to_dicts()
    except Exception as exc:  # polars raises several exception types for damaged files
        notes.append(f"The module's {what} are unavailable: {path.name} is unreadable ({exc}).")
        return []


def _variant_row(
    module: str,
    row: dict[str, Any],
    annotations: dict[str, dict[str, Any]],
    studies: dict[str, list[Study]],
    sample_build: str | None,
) -> VariantRow:
    """A matched row joined with the module's gene notes and studies, and where the person's file (on
    `sample_build`) holds it (results written before that was recorded have no such columns)."""
    rsid = _text(row.get("rsid"))
    note = annotations.get(rsid or "", {})
    genotype = row.get("genotype")
    category = _text(row.get("category")) or _text(note.get("category"))
    return VariantRow(
        module=module,
        rsid=rsid,
        chrom=_text(row.get("chrom")),
        start=row.get("start"),
        ref=_text(row.get("ref")),
        genotype="/".join(str(a) for a in genotype) if isinstance(genotype, list) else str(genotype or ""),
        gt=_text(row.get("gt")),
        zygosity=_text(row.get("zygosity")),
        weight=float(row.get("weight") or 0.0),
        state=_text(row.get("state")) or "neutral",
        priority=row.get("priority"),
        conclusion=_text(row.get("conclusion")),
        gene=_text(row.get("gene")) or _text(note.get("gene")),
        category=category.strip().lower() if category else None,
        phenotype=_text(note.get("phenotype")),
        evidence=_text(row.get("evidence")),
        studies=tuple(studies.get(rsid or "", ())),
        sample_chrom=_text(row.get("sample_chrom")),
        sample_start=row.get("sample_start"),
        sample_build=sample_build,
    )


def _categories(rows: tuple[VariantRow, ...]) -> tuple[CategorySection, ...]:
    """The 12 pathway categories (empty ones included), then any category the module adds."""
    known = {key for key, _, _ in LONGEVITY_CATEGORIES}
    extra = sorted({r.category for r in rows if r.category and r.category not in known})
    spec = list(LONGEVITY_CATEGORIES) + [(key, key.replace("_", " ").capitalize(), "") for key in extra]
    sections = []
    for key, title, description in spec:
        members = tuple(r for r in rows if (r.category or "other") == key)
        sections.append(
            CategorySection(
                key=key, title=title, description=description, tally=tally(members), variants=members
            )
        )
    return tuple(sections)


def _check_against_manifest(name: str, entry: dict[str, Any], counted: Tally) -> None:
    """Fail loudly if the rows disagree with the manifest's figures: the report must show one truth."""
    expected = {
        "matched": counted.total,
        "protective": counted.protective,
        "risk": counted.risk,
        "neutral": counted.neutral,
    }
    for key, value in expected.items():
        if entry.get(key) is not None and int(entry[key]) != value:
            raise ReportInputError(
                f"module {name}: the manifest says {key}={entry[key]} but its results have {value}"
            )
    net = entry.get("net_weight")
    if net is not None and abs(float(net) - counted.net_weight) > NET_WEIGHT_TOLERANCE:
        raise ReportInputError(
            f"module {name}: the manifest says net_weight={net} but its results sum to {counted.net_weight}"
        )


def _ledger(raw: Any, untestable_in_module: tuple[str, ...] = ()) -> Ledger | None:
    """The testability ledger, with every untested site given a reason in words."""
    if not isinstance(raw, dict):
        return None
    counts = {
        key: int(raw.get(key) or 0)
        for key in ("sites", "called", "no_call", "inferred_hom_ref", "not_testable")
    }
    reasons = _explained(raw.get("no_call_reasons") or {"no_call": counts["no_call"]}, counts["no_call"])
    reasons += _explained(raw.get("not_testable_reasons") or {}, counts["not_testable"])
    return Ledger(untested_reasons=tuple(reasons), untestable_in_module=untestable_in_module, **counts)


def _untestable_in_module(name: str, entry: dict[str, Any], info: dict[str, Any]) -> tuple[str, ...]:
    """Sentences on the curated variants the module's compiler could not make testable, from the manifest.

    Results annotated before the manifest recorded drops take them from the module.json of the same version.
    """
    if "dropped" in entry:
        dropped = dropped_counts(entry)
    elif info.get("version") is not None and info.get("version") == entry.get("version"):
        dropped = dropped_counts(info)
    else:
        dropped = {}
    return tuple(
        untestable_in_module_text(name, reason, count) for reason, count in untestable_drops(dropped).items()
    )


def _explained(reasons: dict[str, Any], total: int) -> list[tuple[str, int]]:
    """(words, count) per reason code, largest first, plus whatever part of `total` no reason covers."""
    out = [
        (reason_words(str(code)), int(n))
        for code, n in sorted(reasons.items(), key=lambda kv: -int(kv[1]))
        if int(n)
    ]
    explained = sum(n for _, n in out)
    if total > explained:
        out.append(("no reason recorded", total - explained))
    return out


def _provenance(manifest: dict[str, Any]) -> Provenance:
    """The reproducibility facts of the run, plus when and by what version the report was made."""
    facts = manifest.get("input") or {}
    source = manifest.get("modules_source") or {}
    regions = manifest.get("confident_regions") or {}
    fill = manifest.get("rsid_fill") or {}
    filters = tuple((str(key), _setting(value)) for key, value in (manifest.get("filters") or {}).items())
    return Provenance(
        pipeline_version=manifest.get("pipeline_version"),
        run_id=manifest.get("run_id"),
        created_at=manifest.get("created_at"),
        engine=manifest.get("engine"),
        input_file=facts.get("file_name"),
        input_sha256=facts.get("sha256"),
        sample_column=facts.get("sample_column"),
        genome_build=facts.get("genome_build"),
        genome_build_text=build_text(facts) if facts.get("genome_build") else None,
        input_kind_text=input_kind_text(facts),
        records=facts.get("records"),
        records_kept=facts.get("records_kept"),
        read_mode=str(facts.get("read_mode") or "full"),
        site_reader=facts.get("site_reader"),
        filters=filters,
        confident_regions=regions.get("file_name"),
        confident_regions_sha256=regions.get("sha256"),
        modules_source_kind=source.get("kind"),
        # a local source's label is its folder on the server: named by its last part
        modules_source_label=hide_server_paths(str(source["label"])) if source.get("label") else None,
        modules_source_revision=source.get("revision"),
        report_generated_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        report_version=__version__,
        rsid_fill_source=fill.get("source"),
        rsid_fill_revision=fill.get("revision"),
        rsid_fill_records=fill.get("records_filled"),
        malformed_records=int(facts.get("malformed_records") or 0),
    )


def _setting(value: Any) -> str:
    """A filter setting in words: off, on, a number, or a comma-separated list."""
    if value is None or value is False:
        return "off"
    if value is True:
        return "on"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def _text(value: Any) -> str | None:
    """A non-empty string or None."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None

"""Tiny sample folders laid out as the annotation step writes them (see the manifest contract)."""

from __future__ import annotations

import json
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from just_dna_pipelines.modules.schema import ANNOTATIONS_SCHEMA, MATCHED_SCHEMA, STUDIES_SCHEMA
from just_dna_pipelines.report.model import ReportData, Tally
from just_dna_pipelines.report.render import fmt_weight


def matched_row(module: str, rsid: str, weight: float, **extra: Any) -> dict[str, Any]:
    """One matched row with sensible defaults."""
    row: dict[str, Any] = {
        "module": module,
        "rsid": rsid,
        "chrom": "21",
        "start": 1000,
        "ref": "G",
        "genotype": ["A", "G"],
        "gt": "0|1",
        "zygosity": "het",
        "weight": weight,
        "state": "protective" if weight > 0 else "risk" if weight < 0 else "neutral",
        "priority": 0.5,
        "conclusion": f"conclusion of {rsid}",
        "gene": "GENE1",
        "category": None,
        "evidence": "call",
    }
    row.update(extra)
    return row


def ledger(sites: int, called: int, **reasons: int) -> dict[str, Any]:
    """A ledger where every untested site is explained by `reasons` (no no-calls, no inferred sites)."""
    return {
        "sites": sites,
        "called": called,
        "no_call": 0,
        "inferred_hom_ref": 0,
        "not_testable": sites - called,
        "not_testable_reasons": reasons or {"absent": sites - called},
    }


def write_sample(
    root: Path,
    modules: dict[str, dict[str, Any]],
    rows: dict[str, list[dict[str, Any]]],
    studies: dict[str, list[dict[str, Any]]] | None = None,
    annotations: dict[str, list[dict[str, Any]]] | None = None,
    user: str = "alice",
    sample: str = "NA12878",
) -> tuple[Path, Path]:
    """Write a sample folder (manifest + matched rows) and a modules root; return (sample_dir, modules_root)."""
    sample_dir = root / "users" / user / sample
    results = sample_dir / "modules"
    results.mkdir(parents=True)
    modules_root = root / "module_source"
    entries = {}
    for name, entry in modules.items():
        full = {"status": "done", "reason": None, "version": "0.5", "sha256": "ab" * 32, **entry}
        if full["status"] == "done":
            module_rows = rows.get(name, [])
            weights = [r["weight"] for r in module_rows]
            full.setdefault("matched", len(weights))
            full.setdefault("protective", sum(w > 0 for w in weights))
            full.setdefault("risk", sum(w < 0 for w in weights))
            full.setdefault("net_weight", sum(weights))
            full.setdefault("output", f"{name}_weights.parquet")
            pl.DataFrame(module_rows, schema=MATCHED_SCHEMA).write_parquet(results / full["output"])
            folder = modules_root / name
            folder.mkdir(parents=True)
            pl.DataFrame((annotations or {}).get(name, []), schema=ANNOTATIONS_SCHEMA).write_parquet(
                folder / "annotations.parquet"
            )
            pl.DataFrame((studies or {}).get(name, []), schema=STUDIES_SCHEMA).write_parquet(
                folder / "studies.parquet"
            )
        entries[name] = full
    manifest = {
        "user": user,
        "sample": sample,
        "partition_key": f"{user}/{sample}",
        "run_id": "run-1234",
        "created_at": "2026-11-22T03:00:00Z",
        "pipeline_version": "0.1.0",
        "engine": "polars",
        "input": {
            "file_name": "tiny.vcf.gz",
            "sha256": "cd" * 32,
            "sample_column": sample,
            "samples": [sample],
            "genome_build": "GRCh38",
            "contig_naming": "chr",
            "is_gvcf": False,
            "records": 10,
            "records_kept": 9,
        },
        "filters": {"pass_only": False, "min_depth": 10, "min_quality": None},
        "confident_regions": None,
        "modules_source": {
            "kind": "local",
            "label": str(modules_root),
            "root": str(modules_root),
            "revision": None,
        },
        "modules": entries,
        "duration_s": 0.1,
        "peak_rss_mb": 100.0,
    }
    (results / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return sample_dir, modules_root


def study(rsid: str, pmid: str, **extra: Any) -> dict[str, Any]:
    """One study row."""
    return {
        "rsid": rsid,
        "pmid": pmid,
        "population": "Danish",
        "p_value": "0.001",
        "conclusion": f"study {pmid} on {rsid}",
        "study_design": "case-control",
        **extra,
    }


def figures_of(data: ReportData) -> dict[str, str]:
    """Every data-figure key the report should show, with its text, computed from the data."""

    def add(prefix: str, t: Tally) -> None:
        out[f"{prefix}.total"] = str(t.total)
        out[f"{prefix}.protective"] = str(t.protective)
        out[f"{prefix}.risk"] = str(t.risk)
        out[f"{prefix}.net_weight"] = fmt_weight(t.net_weight)

    out: dict[str, str] = {}
    add("overall", data.overall)
    for m in data.modules:
        if m.done:
            add(m.name, m.tally)
        for c in m.categories:
            add(f"{m.name}.cat.{c.key}", c.tally)
        if m.ledger:
            for key in ("tested", "sites", "called", "inferred_hom_ref", "untested"):
                if key != "untested" or m.ledger.untested:
                    out[f"{m.name}.ledger.{key}"] = str(getattr(m.ledger, key))
            if m.matched_via_filled_rsid:
                out[f"{m.name}.matched_via_filled_rsid"] = str(m.matched_via_filled_rsid)
    if data.changes is not None:
        for key in ("added", "removed", "reweighted"):
            out[f"changes.{key}"] = str(len(getattr(data.changes, key)))
    return out


@pytest.fixture
def expected_figures():
    """`figures_of` for tests."""
    return figures_of


class SampleFactory:
    """The helpers above, handed to tests as one fixture (conftest is not importable under importlib mode)."""

    matched_row = staticmethod(matched_row)
    ledger = staticmethod(ledger)
    study = staticmethod(study)
    write_sample = staticmethod(write_sample)


@pytest.fixture
def factory() -> type[SampleFactory]:
    """The sample-folder helpers."""
    return SampleFactory


@pytest.fixture
def tiny_sample(tmp_path: Path) -> tuple[Path, Path]:
    """A sample with longevitymap (3 categories hit), coronary (untestable), vo2max skipped and lipid failed."""
    longevity = [
        matched_row(
            "longevitymap", "rs2253363", 0.14, genotype=["A", "A"], gt="1|1", zygosity="hom", category="other"
        ),
        matched_row("longevitymap", "rs3788157", 0.175, gene="ADARB1", category="genome_maintenance"),
        matched_row("longevitymap", "rs414743", -0.175, gene="ADARB1", category="genome_maintenance"),
        matched_row(
            "longevitymap",
            "rs2838809",
            0.35,
            genotype=["G", "G"],
            gt="0/0*",
            zygosity="hom",
            category="lipids",
            evidence="inferred_hom_ref",
            conclusion="<script>alert('x')</script> & <b>bold</b>",
        ),
    ]
    return write_sample(
        tmp_path,
        modules={
            "longevitymap": {
                "ledger": {
                    "sites": 528,
                    "called": 10,
                    "no_call": 1,
                    "inferred_hom_ref": 2,
                    "not_testable": 515,
                    "not_testable_reasons": {"absent": 500, "no_coordinates_and_no_rsids": 15},
                }
            },
            "coronary": {"ledger": ledger(27, 0)},
            "vo2max": {"status": "skipped", "reason": "not selected by the user"},
            "lipidmetabolism": {"status": "failed", "reason": "weights table unreadable"},
        },
        rows={"longevitymap": longevity, "coronary": []},
        studies={
            "longevitymap": [
                study("rs2253363", "22279548"),
                study("rs3788157", "20011587"),
                study("rs3788157", "11111111", conclusion="<img src=x onerror=alert(1)>"),
                # a second result of the same paper (another cohort): shown as its own record, the PMID once
                study("rs3788157", "20011587", population="Japanese", p_value="0.2"),
            ]
        },
        annotations={
            "longevitymap": [
                {"rsid": "rs2253363", "gene": "PDE11A", "phenotype": "longevity", "category": "other"}
            ]
        },
    )


class ReportParser(HTMLParser):
    """Collects what the tests check: figures, variant rows, resource references and script bodies."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.figures: list[tuple[str, str]] = []
        self.rows: list[dict[str, str]] = []
        self.resources: list[tuple[str, str, str]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.categories: dict[str, str] = {}
        self._capture: list[tuple[str, list[str]]] = []
        self._tag_stack: list[str] = []
        self._section: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for key in ("src", "href", "data", "poster", "srcset", "action"):
            if key in a:
                self.resources.append((tag, key, a[key]))
        if tag == "section" and a.get("id", "").startswith("cat-"):
            self._section = a["id"][4:]
        if "data-figure" in a:
            self._capture.append((a["data-figure"], []))
        if tag == "tr" and "variant" in a.get("class", "").split():
            self.rows.append({**a, "section": self._section or ""})
        if tag == "td" and "data-col" in a and self.rows:
            self.rows[-1][a["data-col"]] = a.get("data-v", "")
        if tag in ("script", "style"):
            self._tag_stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self._capture:
            key, parts = self._capture.pop()
            self.figures.append((key, "".join(parts)))
        if tag in ("script", "style") and self._tag_stack:
            self._tag_stack.pop()

    def handle_data(self, data: str) -> None:
        for _, parts in self._capture:
            parts.append(data)
        if self._tag_stack == ["script"]:
            self.scripts.append(data)
        elif self._tag_stack == ["style"]:
            self.styles.append(data)


@pytest.fixture
def parse_report() -> Callable[[str], ReportParser]:
    """Parse report HTML into a ReportParser."""

    def parse(html: str) -> ReportParser:
        parser = ReportParser()
        parser.feed(html)
        parser.close()
        return parser

    return parse

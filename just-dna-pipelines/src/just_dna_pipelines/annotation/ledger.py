"""The testability ledger: of a module's sites, how many could be tested, and why the rest could not."""

from __future__ import annotations

from typing import Any

import polars as pl


def module_ledger(site_calls: pl.DataFrame) -> dict[str, Any]:
    """Count one module's sites by status, with the reasons behind no-calls and untestable sites."""
    counts = dict(site_calls.group_by("status").len().iter_rows())
    not_testable = site_calls.filter(pl.col("status") == "not_testable")
    no_call = site_calls.filter(pl.col("status") == "no_call")
    return {
        "sites": site_calls.height,
        "called": int(counts.get("called", 0)),
        "no_call": int(counts.get("no_call", 0)),
        "inferred_hom_ref": int(counts.get("inferred_hom_ref", 0)),
        "not_testable": int(counts.get("not_testable", 0)),
        "no_call_reasons": dict(sorted(no_call.group_by("reason").len().iter_rows())),
        "not_testable_reasons": dict(sorted(not_testable.group_by("reason").len().iter_rows())),
    }


def tested_sites(ledger: dict[str, Any]) -> int:
    """Sites whose genotype is known (called or inferred homozygous reference)."""
    return int(ledger["called"]) + int(ledger["inferred_hom_ref"])

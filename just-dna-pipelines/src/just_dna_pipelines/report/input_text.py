"""The report's words about the input: its kind (VCF or DNA-test array), its genome build and any liftover."""

from __future__ import annotations

from typing import Any

MODULES_BUILD = "GRCh38"
HOW_DECIDED = {
    "header": "as the file states",
    "data": "decided from the file's data at the module sites",
    "header+data": "as the file states, confirmed by its data at the module sites",
    "none": "neither stated by the file nor clear from its data",
}


def build_text(facts: dict[str, Any]) -> str:
    """The genome build, how it was decided, and how module sites were placed on it, in one line."""
    build = facts.get("genome_build") or "unknown"
    how = HOW_DECIDED.get(str(facts.get("build_source") or "header"), "")
    text = f"{build} ({how})" if how else build
    lift = facts.get("liftover") or {}
    status = lift.get("status")
    if status == "lifted":
        text += f"; the modules' {MODULES_BUILD} sites were lifted to GRCh37 with {lift.get('file_name')}"
        if lift.get("sha256"):
            text += (
                f" (SHA-256 {str(lift['sha256'])[:16]}…); positions shown are {MODULES_BUILD}, "
                "each call with its GRCh37 position in the file"
            )
    elif status == "unavailable":
        text += "; no liftover chain was available, so sites were matched by rsID only"
    elif build != MODULES_BUILD:
        text += "; positions were not used, sites were matched by rsID only"
    return text


def fmt_count(value: Any) -> str:
    """A count with thousands separators ("65,405"), as the app shows counts; other values as they are."""
    return f"{value:,}" if isinstance(value, int) else str(value)


def input_kind_text(facts: dict[str, Any]) -> str | None:
    """What an array file held (vendor, SNPs, call rate); None for a VCF."""
    array = facts.get("array")
    if facts.get("input_kind") != "array" or not isinstance(array, dict):
        return None
    rate = array.get("call_rate")
    rate_text = f", call rate {float(rate):.1%}" if rate is not None else ""
    return (
        f"{facts.get('vendor') or 'unknown vendor'} DNA-test array file: {fmt_count(facts.get('records'))} SNPs{rate_text}, "
        f"{fmt_count(array.get('indels') or 0)} insertion/deletion calls (not testable)"
    )


def input_warnings(facts: dict[str, Any]) -> list[str]:
    """What the reader must know about the input before trusting the results."""
    warnings = [str(w) for w in facts.get("warnings") or []]
    build = facts.get("genome_build")
    status = (facts.get("liftover") or {}).get("status")
    if build == "GRCh37" and status is None:
        # A manifest from before liftover existed: GRCh37 was never matched by position then.
        warnings.append(
            "The input is GRCh37 but the module positions are GRCh38, so no site was matched by position "
            "(only by rsID, where the file has rsIDs)."
        )
    elif build == "GRCh37" and status == "lifted":
        warnings.append(
            "The input is GRCh37: the modules' GRCh38 sites were lifted to GRCh37 and matched there; sites "
            "without a unique GRCh37 position are listed as not tested."
        )
    elif build == "GRCh37":
        warnings.append(
            "The input is GRCh37 and no liftover chain was available, so no site was matched by position "
            "(only by rsID, where the file has rsIDs)."
        )
    elif build not in (MODULES_BUILD, None):
        warnings.append(
            f"The input's genome build is {build}, so its positions were not used: sites were matched by rsID only."
        )
    if facts.get("input_kind") == "array":
        warnings.append(
            f"This genome comes from a DNA-test array ({facts.get('vendor') or 'unknown vendor'}), which reads a "
            "fixed set of positions: module sites that are not on the array are counted as not tested, never as "
            "absent from your genome."
        )
    return warnings

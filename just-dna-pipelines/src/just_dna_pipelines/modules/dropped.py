"""What a module's compiler dropped from its source (module.json `dropped`: reason -> count), and which of it
leaves a curated variant untested.

Most drop reasons mean a variant the module's curators chose could not become a genotype to look for: a person
is told about those. A few are the curators' own choices, not a gap in testing, and are not.
"""

from __future__ import annotations

from typing import Any

NOT_NAMED_BY_CURATION = "not named by the curation"  # outside the module's curated scope
CURATION_DROP = "curation: drop"  # a strand duplicate of a genotype the module already states
DUPLICATE = "duplicate (rsid, genotype)"  # the same genotype stated twice: nothing is lost

CHOSEN_BY_CURATION = frozenset({NOT_NAMED_BY_CURATION, CURATION_DROP, DUPLICATE})


def dropped_counts(meta: dict[str, Any]) -> dict[str, int]:
    """The `dropped` record of a module.json (reason -> count); {} when there is none or it is malformed."""
    raw = meta.get("dropped")
    if not isinstance(raw, dict):
        return {}
    counts: dict[str, int] = {}
    for reason, count in raw.items():
        if isinstance(count, int) and not isinstance(count, bool) and count > 0:
            counts[str(reason)] = count
    return counts


def untestable_drops(dropped: dict[str, int]) -> dict[str, int]:
    """The drops (as `dropped_counts` reads them: positive counts only) that left curated variants untested
    (reason -> count), largest first."""
    kept = {reason: n for reason, n in dropped.items() if reason not in CHOSEN_BY_CURATION}
    return dict(sorted(kept.items(), key=lambda kv: (-kv[1], kv[0])))

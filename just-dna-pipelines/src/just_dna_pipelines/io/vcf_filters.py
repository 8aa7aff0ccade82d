"""Which calls count: FILTER values, minimum depth and minimum quality."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

# DeepVariant marks confident reference calls "RefCall" (GT 0/0): they are calls, not failures.
DEFAULT_PASSING_FILTERS: tuple[str, ...] = ("PASS", ".", "RefCall")


@dataclass(frozen=True)
class VcfFilters:
    """A record whose FILTER is not in `passing_filters`, or below a minimum, counts as no call."""

    passing_filters: tuple[str, ...] | None = field(
        default=DEFAULT_PASSING_FILTERS
    )  # None: any FILTER passes
    min_depth: int | None = None
    min_quality: float | None = None

    @classmethod
    def from_options(
        cls, passing_filters: Sequence[str] | None, min_depth: int | None, min_quality: float | None
    ) -> VcfFilters:
        """The filters from a run's options (FILTER values as a list, or None for any)."""
        passing = tuple(passing_filters) if passing_filters is not None else None
        return cls(passing_filters=passing, min_depth=min_depth, min_quality=min_quality)

    def describe(self) -> dict[str, Any]:
        """The filters as plain data for metadata and the report."""
        data = asdict(self)
        data["passing_filters"] = list(self.passing_filters) if self.passing_filters is not None else None
        return data

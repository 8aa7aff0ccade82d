"""Geometry of the inline SVG chart of net weight per longevitymap category (values come from the tallies)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from just_dna_pipelines.report.model import CategorySection

WIDTH = 640
LABEL_WIDTH = 190
VALUE_ROOM = 64  # space kept on each side of the bars for the value text
ROW_HEIGHT = 26
BAR_HEIGHT = 16
TOP = 8


@dataclass(frozen=True)
class Bar:
    """One category's row in the chart."""

    key: str
    title: str
    y: float
    x: float
    width: float
    sign: str  # "pos", "neg" or "none"
    value_text: str
    value_x: float
    value_anchor: str


@dataclass(frozen=True)
class Chart:
    """The whole chart: size, zero axis and one bar per category."""

    width: int
    height: int
    zero_x: float
    bars: tuple[Bar, ...]


def category_chart(categories: Sequence[CategorySection], fmt: Callable[[float], str]) -> Chart:
    """A diverging bar chart: bars grow right for a positive net weight, left for a negative one."""
    plot_left = LABEL_WIDTH + VALUE_ROOM
    plot_right = WIDTH - VALUE_ROOM
    half = (plot_right - plot_left) / 2
    zero_x = plot_left + half
    largest = max((abs(c.tally.net_weight) for c in categories), default=0.0) or 1.0
    bars = []
    for i, category in enumerate(categories):
        net = category.tally.net_weight
        length = abs(net) / largest * half
        y = TOP + i * ROW_HEIGHT
        if category.tally.total == 0:
            bars.append(Bar(category.key, category.title, y, zero_x, 0, "none", "none", zero_x + 6, "start"))
            continue
        sign = "pos" if net > 0 else "neg" if net < 0 else "none"
        x = zero_x if net >= 0 else zero_x - length
        value_x = zero_x + length + 6 if net >= 0 else zero_x - length - 6
        anchor = "start" if net >= 0 else "end"
        bars.append(Bar(category.key, category.title, y, x, length, sign, fmt(net), value_x, anchor))
    return Chart(width=WIDTH, height=TOP * 2 + len(bars) * ROW_HEIGHT, zero_x=zero_x, bars=tuple(bars))

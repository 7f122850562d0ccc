"""Geometry of the campaign-pattern bar chart, rendered as inline SVG by the template. Pure.

Integer arithmetic throughout; the page's CSP forbids inline styles, so everything the
picture needs is in SVG attributes and the console stylesheet's `.chart` classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from campaigns.console.review_detail import Pattern

# Drawn about as wide as it is shown, so the console stylesheet's 11px labels stay 11px.
WIDTH = 1100
HEIGHT = 160
LEFT = 36
TOP = 12
BOTTOM = 22
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    count: int
    label: str
    """Day of the month, under the bar."""
    title: str
    """Tooltip: the date and the count."""


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    baseline_y: int | None
    """Where the campaign's usual daily rate sits; None without history before the window."""
    top_value: int
    left: int
    axis_y: int
    usual_text: str
    recent_text: str


def per_day_text(count: int, days: int) -> str:
    rate = (Decimal(count) / Decimal(days)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{rate} a day"


def daily_bars(pattern: Pattern) -> BarChart:
    days = pattern.days
    has_baseline = pattern.baseline_days > 0
    # The scale's top: the busiest day or the usual rate (rounded up), at least 1.
    usual_ceiling = -(-pattern.baseline_count // pattern.baseline_days) if has_baseline else 0
    top = max([d.count for d in days] + [usual_ceiling, 1])
    slot = (WIDTH - LEFT) // max(len(days), 1)
    bar_width = max(slot * 7 // 10, 1)
    axis_y = TOP + PLOT_HEIGHT
    bars = []
    for i, day in enumerate(days):
        height = day.count * PLOT_HEIGHT // top
        bars.append(
            Bar(
                x=LEFT + i * slot + (slot - bar_width) // 2,
                y=axis_y - height,
                width=bar_width,
                height=height,
                count=day.count,
                label=str(day.day.day),
                title=f"{day.day.isoformat()}: {day.count} donation{'s' if day.count != 1 else ''}",
            )
        )
    baseline_y = None
    if has_baseline:
        baseline_y = axis_y - pattern.baseline_count * PLOT_HEIGHT // (pattern.baseline_days * top)
    return BarChart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        baseline_y=baseline_y,
        top_value=top,
        left=LEFT,
        axis_y=axis_y,
        usual_text=per_day_text(pattern.baseline_count, pattern.baseline_days) if has_baseline else "",
        recent_text=per_day_text(pattern.recent_total, max(len(days), 1)),
    )

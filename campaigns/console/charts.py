"""Server-rendered SVG charts for the console: no JavaScript, nothing the page's CSP refuses.

Charts are drawn from plain numbers; every text that reaches the SVG is escaped here. Colours
and strokes come from classes in console.css (inline `style` is refused by the CSP). Pixel
arithmetic is float; money values are only ever formatted by the caller's `label` functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

WIDTH = 760
PAD_LEFT = 90
PAD_RIGHT = 16
PAD_TOP = 14
PAD_BOTTOM = 28


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    caption: str
    """What the bar means in words, shown beside it (e.g. "€120.00 · 4 matches")."""
    css_class: str = "bar"


def _svg(title: str, height: int, body: list[str], *, chart_id: str) -> Markup:
    title_id = f"{chart_id}-title"
    head = (
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{escape(title_id)}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{escape(title_id)}">{escape(title)}</title>'
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - every piece is escaped above/below


def _text(x: float, y: float, value: str, *, anchor: str = "start", css: str = "") -> str:
    klass = f' class="{css}"' if css else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{klass}>{escape(value)}</text>'


def horizontal_bars(title: str, bars: Sequence[Bar], *, chart_id: str) -> Markup:
    """One bar per row, length proportional to the largest value, the caption to its right."""
    row = 26
    height = PAD_TOP + row * max(len(bars), 1) + 6
    largest = max((b.value for b in bars), default=0) or 1
    span = (WIDTH - PAD_LEFT - PAD_RIGHT) * 0.6
    body: list[str] = []
    for i, bar in enumerate(bars):
        y = PAD_TOP + i * row
        length = span * bar.value / largest if bar.value > 0 else 0.0
        body.append(_text(PAD_LEFT - 8, y + 14, bar.label, anchor="end"))
        body.append(
            f'<rect class="{escape(bar.css_class)}" x="{PAD_LEFT}" y="{y + 3:.1f}" '
            f'width="{max(length, 1.5):.1f}" height="{row - 10}" rx="2">'
            f"<title>{escape(bar.caption)}</title></rect>"
        )
        body.append(_text(PAD_LEFT + length + 6, y + 14, bar.caption))
    return _svg(title, height, body, chart_id=chart_id)


def daily_columns(
    title: str,
    days: Sequence[date],
    values: Sequence[int],
    *,
    label: Callable[[int], str],
    chart_id: str,
) -> Markup:
    """A column per day (oldest left), the y axis labelled with the largest value."""
    height = 160
    plot_h = height - PAD_TOP - PAD_BOTTOM
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    largest = max(values, default=0)
    scale = plot_h / largest if largest > 0 else 0.0
    step = plot_w / max(len(days), 1)
    base = PAD_TOP + plot_h
    body = [
        f'<line class="axis" x1="{PAD_LEFT}" y1="{base}" x2="{WIDTH - PAD_RIGHT}" y2="{base}"/>',
        _text(PAD_LEFT - 8, PAD_TOP + 10, label(largest), anchor="end"),
        _text(PAD_LEFT - 8, base, label(0), anchor="end"),
    ]
    for i, (day, value) in enumerate(zip(days, values, strict=True)):
        h = value * scale
        x = PAD_LEFT + i * step + step * 0.15
        caption = f"{day.isoformat()}: {label(value)}"
        body.append(
            f'<rect class="bar" x="{x:.1f}" y="{base - h:.1f}" width="{step * 0.7:.1f}" '
            f'height="{max(h, 0.0):.1f}"><title>{escape(caption)}</title></rect>'
        )
    if days:
        body.append(_text(PAD_LEFT, height - 8, days[0].isoformat()))
        body.append(_text(WIDTH - PAD_RIGHT, height - 8, days[-1].isoformat(), anchor="end"))
    return _svg(title, height, body, chart_id=chart_id)


@dataclass(frozen=True)
class BurnDown:
    """A pool over its window: what was left at the end of each day against a straight spend."""

    budget_minor: int
    start: date
    end: date
    today: date
    remaining_by_day: Sequence[tuple[date, int]]
    """(day, budget left at that day's end), ascending, from start to min(today, end)."""


def burn_down(title: str, chart: BurnDown, *, label: Callable[[int], str], chart_id: str) -> Markup:
    height = 190
    plot_h = height - PAD_TOP - PAD_BOTTOM
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    total_days = max((chart.end - chart.start).days, 1)
    budget = max(chart.budget_minor, 1)

    def x(day: date) -> float:
        return PAD_LEFT + plot_w * min(max((day - chart.start).days, 0), total_days) / total_days

    def y(amount: int) -> float:
        return PAD_TOP + plot_h * (1 - max(min(amount, budget), 0) / budget)

    base = PAD_TOP + plot_h
    body = [
        f'<line class="axis" x1="{PAD_LEFT}" y1="{base}" x2="{WIDTH - PAD_RIGHT}" y2="{base}"/>',
        f'<line class="axis" x1="{PAD_LEFT}" y1="{PAD_TOP}" x2="{PAD_LEFT}" y2="{base}"/>',
        # The even-spend line: a pool spending steadily to zero by its end date.
        f'<line class="budget" x1="{x(chart.start):.1f}" y1="{y(budget):.1f}" '
        f'x2="{x(chart.end):.1f}" y2="{y(0):.1f}"><title>even spend to the end date</title></line>',
        _text(PAD_LEFT - 8, PAD_TOP + 10, label(chart.budget_minor), anchor="end"),
        _text(PAD_LEFT - 8, base, label(0), anchor="end"),
        _text(PAD_LEFT, height - 8, chart.start.isoformat()),
        _text(WIDTH - PAD_RIGHT, height - 8, chart.end.isoformat(), anchor="end"),
    ]
    points = [(chart.start, chart.budget_minor), *chart.remaining_by_day]
    path = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in points)
    area = f"{x(points[0][0]):.1f},{base} {path} {x(points[-1][0]):.1f},{base}"
    body.append(f'<polygon class="area" points="{area}"/>')
    body.append(f'<polyline class="series" points="{path}"/>')
    last_day, last_value = points[-1]
    body.append(
        f'<circle class="bar" cx="{x(last_day):.1f}" cy="{y(last_value):.1f}" r="3.5">'
        f"<title>{escape(f'{last_day.isoformat()}: {label(last_value)} left')}</title></circle>"
    )
    if chart.start < chart.today < chart.end:
        tx = x(chart.today)
        body.append(f'<line class="axis" x1="{tx:.1f}" y1="{PAD_TOP}" x2="{tx:.1f}" y2="{base}"/>')
        body.append(_text(tx + 4, base - 6, "today"))
    return _svg(title, height, body, chart_id=chart_id)

"""Relative times for people ("2 hours ago"), from an instant the caller's clock gave."""

from __future__ import annotations

from datetime import datetime


def relative_time(at: datetime | None, now: datetime) -> str:
    """'just now', '5 minutes ago', '2 hours ago', '3 days ago', then the date."""
    if at is None:
        return ""
    seconds = max(0, int((now - at).total_seconds()))
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if unit == "day" and seconds >= 30 * size:
            return at.strftime("%-d %b %Y")
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'' if n == 1 else 's'} ago"
    return "just now"

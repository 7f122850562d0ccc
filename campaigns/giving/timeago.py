"""Relative times for people ("2 hours ago" / "2 uur geleden"), from an instant the caller's
clock gave, in the reader's language."""

from __future__ import annotations

from datetime import datetime

from service import i18n


def relative_time(at: datetime | None, now: datetime, language: str = i18n.DEFAULT_LANGUAGE) -> str:
    """'just now', '5 minutes ago', '2 hours ago', '3 days ago', then the date."""
    if at is None:
        return ""
    translations = i18n.translations(language)
    seconds = max(0, int((now - at).total_seconds()))
    if seconds >= 30 * 86_400:
        return i18n.format_date(at, language, format="medium")
    if seconds >= 86_400:
        n = seconds // 86_400
        return translations.ngettext("%(num)s day ago", "%(num)s days ago", n) % {"num": n}
    if seconds >= 3_600:
        n = seconds // 3_600
        return translations.ngettext("%(num)s hour ago", "%(num)s hours ago", n) % {"num": n}
    if seconds >= 60:
        n = seconds // 60
        return translations.ngettext("%(num)s minute ago", "%(num)s minutes ago", n) % {"num": n}
    return translations.gettext("just now")

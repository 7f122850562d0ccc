"""Every string people read is in the catalogs, in Dutch, and the catalogs agree (issue #19).

Babel extracts every marked message (service.catalogs.extract: the Python and Jinja extractors,
keywords `_`, `gettext`, `ngettext`, `N_`); each needs a usable nl entry in
service/locale/nl/LC_MESSAGES/*.po. The catalogs must parse, hold no fuzzy or empty entries,
keep the msgid's `%(name)s` placeholders and translate one msgid the same way everywhere. And
a template of a translated area may not show text outside translation (a Jinja AST walk:
service.catalogs.unmarked_text).

Areas are checked as they are finished: MUST_PASS lists them; every other area runs as a
non-strict xfail, so `pytest tests/test_translations.py -rxX` shows what each area still misses
(XPASS: the area is done; add it to MUST_PASS). `goodloop i18n check` prints the same detail.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from service import catalogs, i18n

# Areas that must be complete (service.catalogs.area_of names them). Grow it; never shrink it.
MUST_PASS = frozenset(
    {
        "templates",
        "templates/dashboard",
        "templates/fundraising",
        "templates/giving",
        "templates/integrations",
        "templates/moderation",
        "templates/notifications",
        "templates/portal",
        "templates/receipts",
        "templates/recurring",
        "python/campaigns",
        "python/campaigns.campaign",
        "python/campaigns.dashboard",
        "python/campaigns.donations",
        "python/campaigns.engagement",
        "python/campaigns.exports",
        "python/campaigns.fundraising",
        "python/campaigns.giving",
        "python/campaigns.integrations",
        "python/campaigns.matching",
        "python/campaigns.moderation",
        "python/campaigns.nonprofits",
        "python/campaigns.notifications",
        "python/campaigns.payouts",
        "python/campaigns.portal",
        "python/campaigns.receipts",
        "python/campaigns.recurring",
        "python/campaigns.sharing",
        "python/service",
        "python/service.auth",
        "python/service.fonts",
        "python/service.mail",
        "python/service.web",
        "python/webhooks",
    }
)
# Catalogs (by file stem) held to the entry rules; conflicts are checked among them.
MUST_PASS_CATALOGS = frozenset(
    {
        "web",
        "portal",
        "mail",
        "notifications",
        "receipts",
        "recurring",
        "integrations",
        "giving",
        "fundraising",
        "dashboard_account",
        "dashboard_campaigns",
        "fundraiser_pages",
        "fundraising_dashboard",
    }
)


@functools.cache
def _marked() -> tuple[catalogs.Marked, ...]:
    return tuple(catalogs.extract())


@functools.cache
def _catalogs() -> catalogs.Catalogs:
    return catalogs.read_catalogs("nl")


def _area_params(prefix: str = "") -> list[object]:
    return [
        pytest.param(
            area,
            marks=()
            if area in MUST_PASS
            else pytest.mark.xfail(reason="area not finished yet", strict=False),
        )
        for area in catalogs.all_areas()
        if area.startswith(prefix)
    ]


def test_every_catalog_parses() -> None:
    assert _catalogs().parse_errors == []
    for language in i18n.LANGUAGES:
        i18n.check_catalogs(language)


def test_the_finished_catalogs_are_complete_consistent_and_keep_placeholders() -> None:
    problems = catalogs.catalog_problems(_catalogs(), only=MUST_PASS_CATALOGS)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(
    "catalog", sorted(p.stem for p in (i18n.LOCALE_DIR / "nl" / "LC_MESSAGES").glob("*.po"))
)
def test_each_catalog_alone(catalog: str) -> None:
    if catalog not in MUST_PASS_CATALOGS:
        pytest.xfail(f"{catalog}.po not in MUST_PASS_CATALOGS yet")
    problems = catalogs.catalog_problems(_catalogs(), only={catalog})
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("area", _area_params())
def test_every_marked_message_has_dutch(area: str) -> None:
    missing = catalogs.missing(_marked(), _catalogs(), [area])
    assert missing == [], "\n".join(f"{m.path}:{m.line}: {m.msgid!r} has no nl entry" for m in missing)


@pytest.mark.parametrize("area", _area_params("templates"))
def test_templates_show_no_text_outside_translation(area: str) -> None:
    found = [u for path in catalogs.translated_templates([area]) for u in catalogs.unmarked_text(path)]
    assert found == [], "\n".join(f"{u.path}:{u.line}: {u.text!r} is not marked" for u in found)


def test_must_pass_names_only_real_areas() -> None:
    assert sorted(MUST_PASS - set(catalogs.all_areas())) == []


# The checker itself: each rule finds what it is for (so a green run means something).


def _write(folder: Path, name: str, body: str) -> None:
    header = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
    (folder / name).write_text(header + body, encoding="utf-8")


def test_the_checker_finds_fuzzy_empty_conflicting_and_placeholder_problems(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "one.po",
        '#, fuzzy\nmsgid "Donate"\nmsgstr "Doneer"\n\n'
        'msgid "Thanks"\nmsgstr ""\n\n'
        'msgid "Raised %(amount)s"\nmsgstr "Opgehaald: %(bedrag)s"\n\n'
        'msgid "Goal"\nmsgstr "Doel"\n',
    )
    _write(tmp_path, "two.po", 'msgid "Goal"\nmsgstr "Streefbedrag"\n')
    found = catalogs.read_catalogs("nl", tmp_path)
    problems = "\n".join(catalogs.catalog_problems(found))
    assert "'Donate' is fuzzy" in problems
    assert "'Thanks' has an empty translation" in problems
    assert "placeholders ['amount'] became ['bedrag']" in problems
    assert "'Goal' is translated differently" in problems
    marked = [
        catalogs.Marked(msgid, None, "x.py", 1, "python/x") for msgid in ("Donate", "Thanks", "Goal", "New")
    ]
    assert [m.msgid for m in catalogs.missing(marked, found)] == ["Donate", "Thanks", "New"]


def test_the_checker_accepts_a_clean_catalog_with_plurals(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "one.po",
        'msgid "Raised %(amount)s"\nmsgstr "%(amount)s opgehaald"\n\n'
        'msgid "%(num)s gift"\nmsgid_plural "%(num)s gifts"\n'
        'msgstr[0] "één gift"\nmsgstr[1] "%(num)s giften"\n',
    )
    assert catalogs.catalog_problems(catalogs.read_catalogs("nl", tmp_path)) == []


def test_the_template_walk_finds_unmarked_text_and_attributes(tmp_path: Path) -> None:
    template = tmp_path / "probe.html"
    template.write_text(
        '{% extends "base.html" %}{% block content %}<!doctype html>'
        "<p>Hello {{ name }}, welcome</p>"
        '<button name="action" value="save">{% trans %}Save{% endtrans %}</button>'
        "{% if draft %}<span>Draft</span>{% endif %}"
        '<input placeholder="Search" aria-label="{{ _(\'Find\') }}">'
        '<a href="/x" title="Goodloop">Goodloop</a> &middot; € 5 · UTC'
        '<script>var x = "hello";</script><input type="submit" value="Go now">'
        '{{ fields.input("email", "Email address", values, errors, placeholder="name@example.org") }}'
        "{% endblock %}",
        encoding="utf-8",
    )
    texts = [u.text for u in catalogs.unmarked_text(template)]
    assert texts == [
        "Hello , welcome",
        "Draft",
        'placeholder="Search"',
        'value="Go now"',
        "input(... 'Email address')",
    ]


def test_extraction_uses_the_documented_keywords() -> None:
    found = {m.msgid: m for m in _marked()}
    # N_ in a domain module, a plain _() in a template, a new-style gettext with a placeholder.
    assert found["must not be blank"].path == "service/validation.py"
    assert found["Skip to content"].area == "templates"
    assert "%(currency)s has %(count)s decimal places; %(amount)s has more" in found

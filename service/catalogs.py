"""The translation catalogs, checked: what the code marks for translation, what the catalogs say,
and text in templates that nobody marked. Used by tests/test_translations.py and by
`goodloop i18n check|extract` (service/cli.py); never at request time.

- `extract()` runs Babel's extractors over the code exactly as people translate it: the Python
  extractor over campaigns/, service/ and webhooks/, and Jinja's (jinja2.ext.babel_extract) over
  service/templates/, with the keywords of service.web.messages (`_`, `gettext`, `ngettext`,
  `N_`). Each message is filed under an AREA: `templates/<folder>` (`templates` for the shared
  top-level templates) or `python/<package>` (`python/campaigns.giving`, `python/service`, ...).
- `catalog_problems()` finds nl catalog entries that are fuzzy, empty, translated differently
  in two catalogs, or whose `%(name)s` placeholders differ from their msgid's.
- `missing(messages)` are marked msgids without an nl translation in any catalog.
- `unmarked_text(path)` walks a template's Jinja AST for text a person reads that is outside
  translation: template data with letters between tags, and literal user-visible attributes
  (placeholder, aria-label, title, alt, the value of a button). Markup, scripts, styles,
  entities, brand names (ALLOWED_WORDS) and symbols are not text.

English-only areas (the admin console, the Stripe sandbox's pages, the developer mailbox) are
marked for translation too but need no nl entry: ENGLISH_ONLY.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from babel.messages.extract import extract as babel_extract
from babel.messages.pofile import read_po
from jinja2 import nodes
from jinja2.ext import babel_extract as jinja_extract

from service.i18n import LOCALE_DIR
from service.web.messages import EXTRACTION_KEYWORDS

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "service" / "templates"
PYTHON_PACKAGES = ("campaigns", "service", "webhooks")
TEMPLATE_SUFFIXES = (".html", ".txt")
# Areas whose people read English only (issue #19: the console's strings are marked, English is
# enough there); their msgids need no nl entry and their templates may hold plain text.
ENGLISH_ONLY = frozenset(
    {
        "templates/console",
        "templates/sandbox",
        "templates/mailbox",
        "python/campaigns.console",
        "python/service.stripe_sandbox",
    }
)
# Names and symbols that read the same in every language.
# Language names are written in their own language (the language switch); units and
# abbreviations of up to four capitals (UTC, HTTP, IBAN, a country code) read the same.
ALLOWED_WORDS = frozenset({"Goodloop", "Stripe", "GitHub", "English", "Nederlands", "ms", "px", "kB", "MB"})
_ABBREVIATION = re.compile(r"^[A-Z]{1,4}$")
# A URL, a path, an email address or a host name is an example, not prose.
_ADDRESS = re.compile(r"^(?:[a-z][a-z0-9+.-]*://\S*|/\S*|\S+@\S+|[\w-]+(?:\.[\w-]+)+/?\S*)$")
# Code samples served as templates (`name.py.txt`) are code, not prose.
CODE_SAMPLE_SUFFIXES = (".py.txt", ".js.txt", ".sh.txt")
_VISIBLE_ATTRIBUTES = ("placeholder", "aria-label", "aria-description", "title", "alt", "aria-placeholder")
_LETTER = re.compile(r"[^\W\d_]")
_EXPRESSION = "\x00"


@dataclass(frozen=True)
class Marked:
    """One marked message where the code uses it."""

    msgid: str
    plural: str | None
    path: str
    line: int
    area: str


@dataclass(frozen=True)
class Entry:
    catalog: str
    msgid: str
    strings: tuple[str, ...]
    fuzzy: bool
    plural: str | None = None


@dataclass
class Catalogs:
    """Every nl entry by msgid, from every catalog."""

    entries: dict[str, list[Entry]] = field(default_factory=lambda: defaultdict(list))
    parse_errors: list[str] = field(default_factory=list)


def area_of(path: Path) -> str:
    relative = path.resolve().relative_to(ROOT)
    parts = relative.parts
    if parts[:2] == ("service", "templates"):
        return "templates" if len(parts) == 3 else f"templates/{parts[2]}"
    if parts[0] == "campaigns" and len(parts) > 2:
        return f"python/campaigns.{parts[1]}"
    if parts[0] == "service" and len(parts) > 2 and (ROOT / "service" / parts[1]).is_dir():
        return f"python/service.{parts[1]}"
    return f"python/{parts[0]}"


def python_files() -> Iterator[Path]:
    for package in PYTHON_PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def template_files() -> Iterator[Path]:
    for suffix in TEMPLATE_SUFFIXES:
        yield from sorted(TEMPLATES.rglob(f"*{suffix}"))


def extract() -> list[Marked]:
    """Every marked message in the code (Python and templates)."""
    found: list[Marked] = []
    for path in python_files():
        found.extend(_extract_file(path, "python"))
    for path in template_files():
        found.extend(_extract_file(path, "jinja2"))
    return found


def _extract_file(path: Path, kind: str) -> Iterator[Marked]:
    area = area_of(path)
    relative = str(path.relative_to(ROOT))
    options = {"extensions": "jinja2.ext.i18n"} if kind == "jinja2" else {}
    method = jinja_extract if kind == "jinja2" else "python"
    with path.open("rb") as f:
        for line, message, _comments, _context in babel_extract(
            method,  # type: ignore[arg-type]  # Jinja's extractor predates Babel's stricter signature
            f,
            keywords=EXTRACTION_KEYWORDS,
            options=options,
        ):
            if isinstance(message, tuple):
                singular, plural = str(message[0]), (str(message[1]) if len(message) > 1 else None)
            else:
                singular, plural = str(message), None
            if singular:
                yield Marked(singular, plural, relative, line, area)


def read_catalogs(language: str = "nl", folder: Path | None = None) -> Catalogs:
    found = Catalogs()
    for po in sorted((folder or LOCALE_DIR / language / "LC_MESSAGES").glob("*.po")):
        try:
            with po.open("rb") as f:
                catalog = read_po(f, locale=language, domain=po.stem)
        except Exception as e:  # noqa: BLE001 (any parse failure is reported, naming the file)
            found.parse_errors.append(f"{po.name}: {e}")
            continue
        for message in catalog:
            if not message.id:
                continue
            if isinstance(message.id, tuple | list):
                msgid, plural = str(message.id[0]), str(message.id[1])
            else:
                msgid, plural = str(message.id), None
            raw = message.string
            strings = tuple(str(s or "") for s in raw) if isinstance(raw, tuple | list) else (str(raw or ""),)
            found.entries[msgid].append(Entry(po.stem, msgid, strings, bool(message.fuzzy), plural))
    return found


_PLACEHOLDER = re.compile(r"%\((\w+)\)[sdifr]")


def placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def catalog_problems(catalogs: Catalogs, only: Iterable[str] | None = None) -> list[str]:
    """Fuzzy, empty, conflicting or placeholder-breaking nl entries (of the catalogs `only`, by
    stem: `web` for web.po; conflicts among those catalogs)."""
    wanted = set(only) if only is not None else None
    problems = list(catalogs.parse_errors)
    for msgid, entries in sorted(catalogs.entries.items()):
        mine = [e for e in entries if wanted is None or e.catalog in wanted]
        for entry in mine:
            where = f"{entry.catalog}.po: {msgid!r}"
            if entry.fuzzy:
                problems.append(f"{where} is fuzzy")
            if any(not s.strip() for s in entry.strings):
                problems.append(f"{where} has an empty translation")
                continue
            problems.extend(f"{where}: {p}" for p in _placeholder_problems(entry))
        if len({e.strings for e in mine}) > 1:
            by = "; ".join(f"{e.catalog}.po: {' | '.join(e.strings)!r}" for e in mine)
            problems.append(f"{msgid!r} is translated differently: {by}")
    return problems


def _placeholder_problems(entry: Entry) -> Iterator[str]:
    singular = placeholders(entry.msgid)
    if entry.plural is None:
        if placeholders(entry.strings[0]) != singular:
            yield f"placeholders {sorted(singular)} became {sorted(placeholders(entry.strings[0]))}"
        return
    plural = placeholders(entry.plural)
    for index, text in enumerate(entry.strings):
        have = placeholders(text)
        # A singular may write the count as a word ("één gift"); no form may invent a name.
        expected = plural if index > 0 else singular | plural
        if not have <= expected or (index > 0 and have != plural):
            yield f"plural form {index}: placeholders {sorted(have)}, msgid has {sorted(expected)}"


def missing(marked: Iterable[Marked], catalogs: Catalogs, areas: Iterable[str] | None = None) -> list[Marked]:
    """Marked messages (of `areas`, not English-only) without an nl translation."""
    wanted = set(areas) if areas is not None else None
    return [
        m
        for m in marked
        if m.area not in ENGLISH_ONLY
        and (wanted is None or m.area in wanted)
        and not any(
            not e.fuzzy and all(s.strip() for s in e.strings) for e in catalogs.entries.get(m.msgid, [])
        )
    ]


_TAG = re.compile(r"<(?P<name>/?[A-Za-z][\w:-]*)(?P<attributes>[^<>]*)>|<!--.*?-->|<![^<>]*>", re.S)
# Attributes written outside a tag of their own (a macro that writes `aria-invalid="true"` into
# its caller's tag) are markup too.
_LOOSE_ATTRIBUTE = re.compile(r"""[\w:-]+=(?:"[^"]*"|'[^']*')""")
_ATTRIBUTE = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|\w+);")
# Scripts, styles and code samples are not prose.
_HIDDEN_CONTENT = re.compile(r"<(script|style|code|pre)\b[^>]*>.*?</\1>", re.S | re.I)
_ENVIRONMENT = jinja2.Environment(extensions=["jinja2.ext.i18n"], autoescape=True)


@dataclass(frozen=True)
class Unmarked:
    path: str
    line: int
    text: str


def unmarked_text(path: Path) -> list[Unmarked]:
    """Text people read in the template at `path` that is not marked for translation."""
    source = path.read_text(encoding="utf-8")
    tree = _ENVIRONMENT.parse(source)
    relative = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    found: list[Unmarked] = []
    # The template's markup as written, with every expression, tag and statement a NUL: the
    # text between tags and the literal attribute values are what is left to read.
    pieces: list[tuple[str, int]] = []
    for output in tree.find_all(nodes.Output):
        for child in output.nodes:
            if isinstance(child, nodes.TemplateData):
                pieces.append((child.data, child.lineno))
            else:
                pieces.append((_EXPRESSION, child.lineno))
        pieces.append((_EXPRESSION, output.lineno))
    markup = "".join(text for text, _ in pieces)
    lines = _line_index(pieces)
    markup = _HIDDEN_CONTENT.sub(lambda m: _EXPRESSION * len(m.group(0)), markup)
    position = 0
    for tag in _TAG.finditer(markup):
        found.extend(_text_between(markup[position : tag.start()], relative, lines(position)))
        found.extend(_attributes(tag, relative, lines(tag.start())))
        position = tag.end()
    found.extend(_text_between(markup[position:], relative, lines(position)))
    found.extend(_literal_arguments(tree, relative))
    return found


def _line_index(pieces: list[tuple[str, int]]) -> _Lines:
    starts: list[tuple[int, int]] = []
    offset = 0
    for text, line in pieces:
        starts.append((offset, line))
        offset += len(text)
    return _Lines(starts)


@dataclass(frozen=True)
class _Lines:
    starts: list[tuple[int, int]]

    def __call__(self, offset: int) -> int:
        line = 1
        for start, at in self.starts:
            if start > offset:
                break
            line = at
        return line


def _readable(text: str) -> str | None:
    """The words a person would read in `text`, or None when it is markup, names or symbols."""
    plain = _ENTITY.sub(" ", text).replace(_EXPRESSION, " ")
    words = [w for w in re.split(r"\s+", plain) if w]
    kept = [w for w in words if _LETTER.search(w) and not _allowed(w)]
    return " ".join(words).strip() if kept else None


def _allowed(word: str) -> bool:
    bare = word.strip(".,:;!?()[]\"'·|")
    return bare in ALLOWED_WORDS or bool(_ABBREVIATION.match(bare)) or bool(_ADDRESS.match(bare))


def _text_between(text: str, path: str, line: int) -> Iterator[Unmarked]:
    readable = _readable(_LOOSE_ATTRIBUTE.sub(" ", text))
    if readable:
        yield Unmarked(path, line, readable)


def _attributes(tag: re.Match[str], path: str, line: int) -> Iterator[Unmarked]:
    if tag.group("name") is None:
        return
    name = tag.group("name").lower()
    attributes = tag.group("attributes") or ""
    pairs = [
        (a.lower(), b if b is not None and c is None else (c or b or ""))
        for a, b, c in _ATTRIBUTE.findall(attributes)
    ]
    as_dict = dict(pairs)
    for attribute, value in pairs:
        # A <button>'s value is sent, not shown; an input button shows its value.
        button_value = (
            attribute == "value"
            and name == "input"
            and as_dict.get("type", "").lower() in {"submit", "button", "reset"}
        )
        if attribute in _VISIBLE_ATTRIBUTES or button_value:
            readable = _readable(value)
            if readable and _EXPRESSION not in value:
                yield Unmarked(path, line, f'{attribute}="{readable}"')


# Arguments of the shared field macros (service/templates/_fields.html) that people read.
_MACRO_TEXT_ARGUMENTS = {"input": (1, ("label", "hint", "placeholder")), "textarea": (1, ("label", "hint"))}


def _literal_arguments(tree: nodes.Template, path: str) -> Iterator[Unmarked]:
    """`fields.input("email", "Email address")`: a label written as a literal is unmarked text."""
    for call in tree.find_all(nodes.Call):
        called = call.node
        name = called.attr if isinstance(called, nodes.Getattr) else getattr(called, "name", None)
        if name not in _MACRO_TEXT_ARGUMENTS:
            continue
        position, keywords = _MACRO_TEXT_ARGUMENTS[name]
        literals: list[nodes.Expr] = []
        if len(call.args) > position:
            literals.append(call.args[position])
        literals.extend(k.value for k in call.kwargs if k.key in keywords)
        for literal in literals:
            if isinstance(literal, nodes.Const) and isinstance(literal.value, str):
                readable = _readable(literal.value)
                if readable:
                    yield Unmarked(path, literal.lineno, f"{name}(... {readable!r})")


def translated_templates(areas: Iterable[str] | None = None) -> Iterator[Path]:
    """Templates of the translated areas (all but ENGLISH_ONLY), or only those of `areas`."""
    wanted = set(areas) if areas is not None else None
    for path in template_files():
        area = area_of(path)
        if (
            path.name.endswith(CODE_SAMPLE_SUFFIXES)
            or area in ENGLISH_ONLY
            or (wanted is not None and area not in wanted)
        ):
            continue
        yield path


def all_areas() -> list[str]:
    areas = {area_of(p) for p in template_files()} | {area_of(p) for p in python_files()}
    return sorted(areas - ENGLISH_ONLY)

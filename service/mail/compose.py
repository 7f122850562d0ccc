"""Render an email from templates, in the reader's language.

An email `<name>` of area `<area>` (the package that sends it: `receipts`, `notifications`,
...) is two templates, `service/templates/<area>/email/<name>.txt` and `<name>.html`:

    {# service/templates/receipts/email/receipt.txt #}
    {% extends "_email.txt" %}
    {% block subject %}{% trans number=receipt.number %}Your receipt {{ number }}{% endtrans %}{% endblock %}
    {% block body %}{% trans name=donor_name %}Dear {{ name }},{% endtrans %}

    {{ _("Thank you for your gift of %(amount)s.", amount=money(amount_minor, currency)) }}
    {{ url('portal:home') }}{% endblock %}

    {# service/templates/receipts/email/receipt.html: same body as HTML #}
    {% extends "_email.html" %}
    {% block body %}<p>{{ _("Thank you ...") }}</p>{{ button(url('portal:home'), _("Open")) }}{% endblock %}

    rendered = compose("receipts", "receipt", language="nl", receipt=r, donor_name="Anna", ...)
    await outbox.enqueue(session, key=f"receipt:{r.id}", email=rendered.email(to=donor_email))

- The subject is the `.txt` template's `{% block subject %}` (one line; whitespace collapsed);
  the `.html` layout shows it as `{{ subject }}`. `{% block preheader %}` in the html is the
  preview line mail clients show after the subject (optional).
- Jinja's i18n extension is bound to `service.i18n.translations(language)`: `{% trans %}`,
  `_()`, `ngettext()` (new-style: `_("... %(x)s", x=...)`); English source strings, the Dutch
  ones in your part's own catalog `service/locale/nl/LC_MESSAGES/<part>.po`.
- Helpers: `money(minor, currency)`, `date(d)` (long form, e.g. `4 december 2026`),
  `url('area:name', **params)` (absolute, PUBLIC_BASE_URL: links in emails must be absolute),
  `language`; `button(href, label)` writes a call-to-action link in the html part.
- HTML is autoescaped; text is not (it is plain text, never shown as HTML).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import jinja2
import markupsafe

from service.i18n import LANGUAGES, format_date, format_money, translations
from service.mail import links
from service.mail.outbox import Attachment, Email
from service.web.pages import TEMPLATES_DIR

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    language: str

    def email(
        self, *, to: str, attachments: tuple[Attachment, ...] = (), reply_to: str | None = None
    ) -> Email:
        return Email(
            to=to,
            subject=self.subject,
            text=self.text,
            html=self.html,
            language=self.language,
            attachments=attachments,
            reply_to=reply_to,
        )


def compose(area: str, name: str, /, *, language: str, **context: Any) -> Rendered:
    """Render `<area>/email/<name>.txt` and `.html` in `language` (see the module docstring)."""
    env = environment(language)
    text_template = env.get_template(f"{area}/email/{name}.txt")
    text_context = text_template.new_context({**context, "language": language})
    subject = _SPACES.sub(" ", "".join(text_template.blocks["subject"](text_context))).strip()
    if not subject:
        raise ValueError(f"{area}/email/{name}.txt has no subject block")
    text = text_template.render({**context, "language": language})
    html = env.get_template(f"{area}/email/{name}.html").render(
        {**context, "language": language, "subject": subject}
    )
    return Rendered(subject=subject, text=_tidy_text(text), html=html, language=language)


def _tidy_text(text: str) -> str:
    # Template whitespace leaves trailing blanks and runs of empty lines; a text mail reads better without.
    lines = [line.rstrip() for line in text.strip().splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy) + "\n"


@functools.cache
def environment(language: str) -> jinja2.Environment:
    """The email templates' environment for `language`, built once per process."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; one of {LANGUAGES}")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        auto_reload=False,
        keep_trailing_newline=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        money=lambda amount_minor, currency: format_money(int(amount_minor), str(currency), language),
        date=lambda value: _date(value, language),
        url=links.url,
        button=_button,
    )
    return env


def _button(href: str, label: str) -> markupsafe.Markup:
    """A call-to-action link styled as a button (inline, so it may stand inside a paragraph)."""
    return markupsafe.Markup('<a class="button" href="{}">{}</a>').format(href, label)


def _date(value: date | datetime, language: str) -> str:
    return format_date(value, language)

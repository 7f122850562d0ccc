"""The language machinery (issue #19): which language a page is read in, that the choice is
remembered, and that what people are told (validation messages, error pages) is in it."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pydantic
import pytest
from starlette.requests import Request

from service import i18n
from service.i18n import N_, Message, translate
from service.validation import Email, HttpUrl, Name, Password
from service.web.api import field_errors
from service.web.language import COOKIE, gettext_for, page_language
from service.web.validation_messages import field_message, sentence, sentences
from tests.campaigns.dashboard import helpers

_FIELD_ERROR = re.compile(r'<p class="field-error" id="([\w-]+)-error">(.*?)</p>', re.S)


def _request(query: str = "", cookie: str | None = None, accept: str | None = None) -> Request:
    headers: list[tuple[bytes, bytes]] = []
    if cookie is not None:
        headers.append((b"cookie", f"{COOKIE}={cookie}".encode()))
    if accept is not None:
        headers.append((b"accept-language", accept.encode()))
    return Request(
        {"type": "http", "method": "GET", "path": "/", "query_string": query.encode(), "headers": headers}
    )


class TestTheRule:
    """?lang= > gl_lang cookie > Accept-Language (when it names nl or en) > the page's default > en."""

    @pytest.mark.parametrize(
        ("query", "cookie", "accept", "default", "expected"),
        [
            ("lang=nl", "en", "en", "en", "nl"),
            ("lang=en", "nl", "nl", "nl", "en"),
            ("lang=de", "nl", "en", "en", "nl"),  # a language we do not speak is no choice
            ("", "nl", "en-GB,en;q=0.9", "en", "nl"),
            ("", "fr", "nl-BE,nl;q=0.9", "en", "nl"),
            ("", None, "de-DE,de;q=0.9", "nl", "nl"),  # the header names neither: the default
            ("", None, "de-DE, en;q=0.5, nl;q=0.8", "en", "nl"),
            ("", None, "nl;q=0", "en", "en"),
            ("", None, None, "nl", "nl"),
            ("", None, None, None, "en"),
            ("", None, None, "xx", "en"),
        ],
    )
    def test_order(
        self, query: str, cookie: str | None, accept: str | None, default: str | None, expected: str
    ) -> None:
        assert page_language(_request(query, cookie, accept), default=default) == expected


class TestOnARealPage:
    async def test_lang_in_the_url_is_remembered_and_beats_the_browser(
        self, client: httpx.AsyncClient
    ) -> None:
        first = await client.get("/donor?lang=nl", headers={"Accept-Language": "en"})

        assert first.status_code == 200
        assert first.headers["content-language"] == "nl"
        assert '<html lang="nl">' in first.text
        assert "Naar de inhoud" in first.text  # base.html's skip link, in Dutch
        assert f"{COOKIE}=nl" in first.headers["set-cookie"]

        later = await client.get("/donor", headers={"Accept-Language": "en"})

        assert later.headers["content-language"] == "nl"
        assert '<html lang="nl">' in later.text
        assert COOKIE not in later.headers.get("set-cookie", "")  # nothing new to remember

        switched = await client.get("/donor?lang=en")

        assert switched.headers["content-language"] == "en"
        assert "Skip to content" in switched.text
        assert f"{COOKIE}=en" in switched.headers["set-cookie"]

    async def test_the_browser_language_without_a_choice(self, client: httpx.AsyncClient) -> None:
        dutch = await client.get("/donor", headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"})
        other = await client.get("/donor", headers={"Accept-Language": "de"})

        assert dutch.headers["content-language"] == "nl"
        assert COOKIE not in dutch.headers.get("set-cookie", "")
        assert other.headers["content-language"] == "en"

    async def test_validation_messages_next_to_fields_are_dutch(self, client: httpx.AsyncClient) -> None:
        client.cookies.set(COOKIE, "nl")

        response = await helpers.submit(
            client,
            "/signup",
            {
                "name": "Stichting Voorbeeld",
                "contact_email": "nope",
                "password": "short",
                "country": "NL",
                "registration_number": "12345678",
                "website": "not a site",
            },
            page="/signup",
        )

        assert response.status_code == 422
        errors = dict(_FIELD_ERROR.findall(response.text))
        assert errors["password"] == "Vul minstens 10 tekens in."
        assert errors["website"] == "Moet een webadres zijn, zoals https://example.org/pagina."
        assert errors["contact_email"] == "Vul een e-mailadres in, zoals naam@voorbeeld.nl."

    async def test_the_same_form_in_english(self, client: httpx.AsyncClient) -> None:
        response = await helpers.submit(client, "/signup", {"password": "short"}, page="/signup")

        errors = dict(_FIELD_ERROR.findall(response.text))
        assert errors["password"] == "Please enter at least 10 characters."

    async def test_error_pages_speak_the_visitors_language(self, client: httpx.AsyncClient) -> None:
        dutch = await client.get("/no-such-page", headers={"Accept-Language": "nl"})
        english = await client.get("/no-such-page", headers={"Accept-Language": "en"})
        api = await client.get("/api/v1/no-such-thing", headers={"Accept-Language": "nl"})

        assert dutch.status_code == english.status_code == 404
        assert dutch.headers["content-language"] == "nl"
        assert '<html lang="nl">' in dutch.text
        assert "<h1>Niet gevonden</h1>" in dutch.text
        assert "Deze pagina bestaat niet, of is er niet meer." in dutch.text
        assert "<h1>Not found</h1>" in english.text
        assert "This page does not exist, or is no longer here." in english.text
        # The API keeps English, and its shape.
        assert api.headers["content-type"].startswith("application/json")
        assert api.json()["detail"] == "Not Found"


class _Form(pydantic.BaseModel):
    name: Name
    email: Email
    password: Password
    website: HttpUrl
    count: int = pydantic.Field(gt=0, le=10)


class TestMessages:
    def _errors(self, **data: object) -> dict[str, str]:
        with pytest.raises(pydantic.ValidationError) as caught:
            _Form.model_validate(data)
        return field_errors(caught.value)

    def test_the_api_keeps_english_and_pages_translate_the_same_messages(self) -> None:
        errors = self._errors(name=" ", email="x", password="short", website="ftp://x", count=11)

        assert errors == {
            "name": "must not be blank",
            "email": "Enter an email address like name@example.org.",
            "password": "Please enter at least 10 characters.",
            "website": "must be a web address like https://example.org/page",
            "count": "Please enter 10 or less.",
        }
        assert sentences(errors, "nl") == {
            "name": "Mag niet leeg zijn.",
            "email": "Vul een e-mailadres in, zoals naam@voorbeeld.nl.",
            "password": "Vul minstens 10 tekens in.",
            "website": "Moet een webadres zijn, zoals https://example.org/pagina.",
            "count": "Vul 10 of minder in.",
        }

    def test_field_message_in_a_language(self) -> None:
        with pytest.raises(pydantic.ValidationError) as caught:
            _Form.model_validate({"count": "many"})
        items = {str(item["loc"][0]): item for item in caught.value.errors()}

        assert field_message(items["count"], "nl") == "Vul een heel getal in."
        assert field_message(items["name"], "nl") == "Vul dit in."
        assert field_message(items["name"]) == "Please fill this in."

    def test_a_message_remembers_its_msgid_and_values(self) -> None:
        message = N_(
            "%(currency)s has %(count)s decimal places; %(amount)s has more",
            currency="EUR",
            count=2,
            amount="1,234",
        )

        assert message == "EUR has 2 decimal places; 1,234 has more"
        assert isinstance(message, Message)
        assert translate(message, "nl") == "EUR heeft 2 decimalen; 1,234 heeft er meer"
        assert translate(message, "en") == message
        assert sentence(message, "nl") == "EUR heeft 2 decimalen; 1,234 heeft er meer."
        # Constant text is looked up as it is; unknown text passes through.
        assert translate("must not be blank", "nl") == "mag niet leeg zijn"
        assert translate("Something nobody translated", "nl") == "Something nobody translated"

    def test_gettext_for_fills_placeholders_and_leaves_a_literal_percent(self) -> None:
        _ = gettext_for("nl")
        assert _("Please enter %(limit)s or more.", limit=3) == "Vul 3 of meer in."
        assert _("100% of it") == "100% of it"


class TestCatalogsAtStartUp:
    def test_every_catalog_of_the_repository_parses(self) -> None:
        assert i18n.check_catalogs() >= 2

    def test_a_broken_catalog_is_refused_loudly(self, tmp_path: Path) -> None:
        folder = tmp_path / "nl" / "LC_MESSAGES"
        folder.mkdir(parents=True)
        (folder / "broken.po").write_text('msgid "Donate"\nmsgstr "Doneer\n\nmsgid', encoding="utf-8")

        with pytest.raises(i18n.CatalogError, match=r"broken\.po"):
            i18n.check_catalogs("nl", root=tmp_path)

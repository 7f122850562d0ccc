"""Messages next to fields are sentences people can act on, never a validator's raw text: the
mapping itself, and every page form's refusal walked end to end."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pydantic
import pytest

from service.validation import Email, Name, Password
from service.web.api import field_errors
from service.web.validation_messages import EMAIL_MESSAGE, sentence
from tests.campaigns.dashboard import helpers
from tests.campaigns.giving.helpers import form_token_in, live

# What pydantic says when nobody translated it.
RAW = re.compile(
    r"should (have|be)|Input should|String should|Field required|Value error|value is not a valid"
    r"|Extra inputs|Input is|valid email address:|Assertion failed|^[a-z]"
)
_MESSAGE = re.compile(r'<p class="(?:field-error|form-error)"[^>]*>(.*?)</p>', re.S)


class _Form(pydantic.BaseModel):
    name: Name
    email: Email
    password: Password
    count: int = pydantic.Field(gt=0, le=10)


class TestMapping:
    def test_pydantic_errors_become_sentences(self) -> None:
        with pytest.raises(pydantic.ValidationError) as caught:
            _Form.model_validate({"name": "", "email": "nope", "password": "short", "count": "x"})

        assert field_errors(caught.value) == {
            "name": "Please fill this in.",
            "email": EMAIL_MESSAGE,
            "password": "Please enter at least 10 characters.",
            "count": "Please enter a whole number.",
        }

    def test_limits_and_missing_fields(self) -> None:
        with pytest.raises(pydantic.ValidationError) as caught:
            _Form.model_validate({"name": "x" * 201, "count": 11})

        errors = field_errors(caught.value)
        assert errors["name"] == "Please keep this to 200 characters or fewer."
        assert errors["email"] == errors["password"] == "Please fill this in."
        assert errors["count"] == "Please enter 10 or less."

    @pytest.mark.parametrize(
        ("raw", "finished"),
        [
            ("must not be blank", "Must not be blank."),
            ("EUR has 2 decimal places; 25.505 has more", "EUR has 2 decimal places; 25.505 has more."),
            ("Please fill this in.", "Please fill this in."),
            ("", ""),
        ],
    )
    def test_sentence(self, raw: str, finished: str) -> None:
        assert sentence(raw) == finished


def messages(page: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", m)).strip() for m in _MESSAGE.findall(page)]


def assert_human(page: str, *, expected: int = 1) -> None:
    found = messages(page)
    assert len(found) >= expected, page[:2000]
    for text in found:
        assert not RAW.search(text), text
        assert text.endswith((".", "!", "?", ")")), text


PAGE_FORMS: list[tuple[str, str, str, dict[str, str]]] = [
    ("login empty", "/dashboard/login", "/dashboard/login", {"email": "", "password": ""}),
    (
        "sign-up empty",
        "/signup",
        "/signup",
        dict.fromkeys(["name", "contact_email", "password", "country", "registration_number", "website"], ""),
    ),
    (
        "sign-up wrong",
        "/signup",
        "/signup",
        {
            "name": "x" * 300,
            "contact_email": "nope",
            "password": "short",
            "country": "XX",
            "registration_number": "1",
            "website": "not a site",
        },
    ),
    ("admin login empty", "/admin/login", "/admin/login", {"email": "", "password": ""}),
]


class TestEveryPageForm:
    @pytest.mark.parametrize(("case", "action", "page", "data"), PAGE_FORMS, ids=[f[0] for f in PAGE_FORMS])
    async def test_signed_out_forms(
        self, client: httpx.AsyncClient, case: str, action: str, page: str, data: dict[str, str]
    ) -> None:
        response = await helpers.submit(client, action, data, page=page)

        assert response.status_code in (400, 401, 409, 422), response.text[:500]
        assert_human(response.text)

    async def test_dashboard_forms(self, client: httpx.AsyncClient) -> None:
        await helpers.signed_in_org(client)
        cases: list[tuple[str, str, dict[str, Any]]] = [
            (
                "/dashboard/campaigns/new",
                "/dashboard/campaigns/new",
                helpers.campaign_form(
                    title="",
                    slug="No Spaces!",
                    goal="abc",
                    story="",
                    suggested_amounts="a b",
                    min_amount="-1",
                ),
            ),
            (
                "/dashboard/campaigns/new",
                "/dashboard/campaigns/new",
                helpers.campaign_form(title="x" * 300, goal="0"),
            ),
            ("/dashboard/members/invite", "/dashboard/members", {"email": "nope", "role": "boss"}),
            ("/dashboard/password", "/dashboard/password", {"current_password": "", "new_password": "short"}),
        ]
        for action, page, data in cases:
            response = await helpers.submit(client, action, data, page=page)

            assert response.status_code in (400, 409, 422), (action, response.text[:500])
            assert_human(response.text)

    async def test_cover_form(self, client: httpx.AsyncClient) -> None:
        await helpers.signed_in_org(client)
        detail = await helpers.create_campaign_via_page(client)
        token = await helpers.csrf_token(client, detail)

        response = await client.post(
            detail + "/cover",
            data={"csrf_token": token, "alt": ""},
            files={"image": ("notes.jpg", b"not an image at all", "image/jpeg")},
        )

        assert response.status_code == 422
        assert_human(response.text)

    async def test_donor_forms(self, client: httpx.AsyncClient, database: Any) -> None:
        campaign = await live(client, database)
        slug = campaign["slug"]
        page = (await client.get(f"/c/{slug}")).text
        donate = await client.post(
            f"/c/{slug}/donate",
            data={
                "form_token": form_token_in(page),
                "currency": campaign["currency"],
                "custom_amount": "12.345",
                "email": "nope",
                "message": "x" * 600,
            },
        )
        report_page = (await client.get(f"/c/{slug}/report")).text
        report = await client.post(
            f"/c/{slug}/report",
            data={"form_token": form_token_in(report_page), "reason": "", "message": "", "email": "nope"},
        )

        for response in (donate, report):
            assert response.status_code in (400, 422), response.text[:500]
            assert_human(response.text)


class TestErrorPages:
    async def test_an_error_page_says_what_happened_in_a_sentence(self, client: httpx.AsyncClient) -> None:
        await helpers.signed_in_org(client)

        response = await client.get("/dashboard/campaigns/00000000-0000-0000-0000-000000000000")

        assert response.status_code == 404
        detail = re.search(r'<p class="error-detail"[^>]*>(.*?)</p>', response.text)
        assert detail is not None and detail.group(1) == "No such campaign."

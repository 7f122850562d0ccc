"""The campaign side of the member dashboard in Dutch and English (issue #19): campaigns, the
campaign page and form, cover, matches, messages and updates speak the page's language, flashes
and refusals included, and amounts are written the language's way."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from starlette.applications import Starlette

from campaigns.dashboard import campaign_words
from campaigns.matching import explain
from campaigns.matching.eligibility import REASONS
from campaigns.matching.models import Match, MatchStatus
from service.app import create_app
from service.db import Database
from service.settings import Settings
from service.stripe_gateway import create_client
from service.web.language import gettext_for
from tests.campaigns.covers.test_cover_pages import post_cover
from tests.campaigns.dashboard import helpers
from tests.campaigns.dashboard.helpers import field_error, form_error, submit
from tests.campaigns.giving.helpers import live
from tests.campaigns.giving.stripe_double import StripeDouble
from tests.campaigns.giving.wall_helpers import give

ROOT = Path(__file__).resolve().parents[3]
CATALOG = ROOT / "service/locale/nl/LC_MESSAGES/dashboard_campaigns.po"
TEMPLATES = [
    f"service/templates/dashboard/{name}.html"
    for name in (
        "campaigns",
        "campaign",
        "campaign_form",
        "_cover_form",
        "cover",
        "matches",
        "messages",
        "updates",
    )
]
MODULES = [
    f"campaigns/dashboard/{name}.py"
    for name in (
        "campaign_words",
        "campaign_pages",
        "cover_pages",
        "match_pages",
        "share_pages",
        "wall_pages",
        "connect_pages",
        "forms",
    )
] + ["campaigns/exports/web.py"]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


@pytest.fixture
async def app(settings: Settings, database: Database) -> AsyncIterator[Starlette]:
    """The app with the recording Stripe double the giving tests use, so a gift can be paid."""
    stripe = create_client(settings, http_client=StripeDouble())
    application = create_app(settings, database=database, stripe_client=stripe)
    async with application.router.lifespan_context(application):
        yield application


async def in_language(client: httpx.AsyncClient, language: str) -> None:
    """Choose the language the way the switch does: ?lang= once, remembered in the cookie."""
    response = await client.get("/dashboard/campaigns", params={"lang": language})
    assert response.status_code == 200
    assert f'<html lang="{language}">' in response.text


def error_detail(page: str) -> str:
    found = re.search(r'<p class="error-detail" data-error="[a-z_]+">(.*?)</p>', page, re.S)
    assert found is not None, page
    return html.unescape(found.group(1))


def snippet(page: str, id_: str) -> str:
    found = re.search(rf'id="{id_}" readonly>(.*?)</textarea>', page, re.S)
    assert found is not None, page
    return html.unescape(found.group(1))


def flashes(page: str) -> list[str]:
    return re.findall(r'<p class="flash" role="status">(.*?)</p>', page, re.S)


class TestCampaignPages:
    async def test_form_flash_detail_and_list_in_dutch(self, client: httpx.AsyncClient) -> None:
        await helpers.signed_in_org(client)
        await in_language(client, "nl")

        form = (await client.get("/dashboard/campaigns/new")).text
        created = await submit(
            client,
            "/dashboard/campaigns/new",
            helpers.campaign_form(goal="5000"),
            page="/dashboard/campaigns/new",
        )
        detail = (await client.get(created.headers["location"])).text
        listing = (await client.get("/dashboard/campaigns")).text

        assert '<html lang="nl">' in form and "<h1>Nieuwe campagne</h1>" in form
        assert "Concept opslaan" in form and "Voorgestelde bedragen" in form
        assert flashes(detail) == ["Campagne opgeslagen als concept."]
        assert '<html lang="nl">' in detail
        assert "<dt>Doel</dt><dd>€\xa05.000,00</dd>" in detail
        assert "€\xa010,00, €\xa025,00, €\xa050,00" in detail
        assert "<h2>Delen en insluiten</h2>" in detail and ">Bewerken</a>" in detail
        assert "Doel €\xa05.000,00" in listing and "Nog geen campagnes." not in listing
        assert ">concept</span>" in listing

    async def test_the_same_pages_in_english(self, client: httpx.AsyncClient) -> None:
        await helpers.signed_in_org(client)
        await in_language(client, "en")

        created = await submit(
            client,
            "/dashboard/campaigns/new",
            helpers.campaign_form(goal="5000"),
            page="/dashboard/campaigns/new",
        )
        detail = (await client.get(created.headers["location"])).text

        assert flashes(detail) == ["Campaign saved as a draft."]
        assert "<dt>Goal</dt><dd>€5,000.00</dd>" in detail
        assert '<html lang="en">' in detail and "Doel" not in detail

    async def test_amounts_are_typed_and_shown_the_dutch_way(self, client: httpx.AsyncClient) -> None:
        org = await helpers.signed_in_org(client)
        await in_language(client, "nl")
        form = helpers.campaign_form(goal="2.500,50", suggested_amounts="7,50 10, 25", min_amount="2,-")

        created = await submit(client, "/dashboard/campaigns/new", form, page="/dashboard/campaigns/new")
        edit = (await client.get(created.headers["location"] + "/edit")).text
        english = await submit(
            client,
            "/dashboard/campaigns/new",
            helpers.campaign_form(goal="2500.50"),
            page="/dashboard/campaigns/new",
        )

        assert created.status_code == 303, created.text
        campaign_id = created.headers["location"].rsplit("/", 1)[1]
        saved = (await client.get(f"/api/v1/campaigns/{campaign_id}", headers=org.headers)).json()
        assert saved["goal_minor"] == 250_050 and saved["min_amount_minor"] == 200
        assert saved["suggested_amounts_minor"] == [750, 1000, 2500]
        assert helpers.input_value(edit, "goal") == "2500,50"
        assert helpers.input_value(edit, "suggested_amounts") == "7,50 10,00 25,00"
        assert english.status_code == 422
        assert field_error(english.text, "goal") == "Gebruik een komma voor de centen, zoals 12,50."

    async def test_field_errors_and_a_taken_address_in_dutch(self, client: httpx.AsyncClient) -> None:
        await helpers.signed_in_org(client)
        await in_language(client, "nl")
        first = helpers.campaign_form()
        await submit(client, "/dashboard/campaigns/new", first, page="/dashboard/campaigns/new")

        empty = await submit(
            client,
            "/dashboard/campaigns/new",
            helpers.campaign_form(title=""),
            page="/dashboard/campaigns/new",
        )
        taken = await submit(
            client,
            "/dashboard/campaigns/new",
            helpers.campaign_form(slug=first["slug"]),
            page="/dashboard/campaigns/new",
        )

        assert empty.status_code == 422
        assert field_error(empty.text, "title") == "Dit veld is verplicht."
        assert "Verbeter de velden die hieronder zijn gemarkeerd." in empty.text
        assert taken.status_code == 409
        assert field_error(taken.text, "slug") == "Dit adres is al in gebruik; kies een ander."

    async def test_a_refused_status_change_is_explained_in_dutch(self, client: httpx.AsyncClient) -> None:
        await helpers.signed_in_org(client)
        await in_language(client, "nl")
        url = await helpers.create_campaign_via_page(client)

        unverified = await submit(client, f"{url}/submit", page=url)
        not_now = await submit(client, f"{url}/pause", page=url)

        assert unverified.status_code == 409
        assert (
            form_error(unverified.text)
            == "Alleen een geverifieerde organisatie kan campagnes ter beoordeling insturen."
        )
        assert not_now.status_code == 409
        assert form_error(not_now.text) == "Dat kan niet zolang de campagne de status concept heeft."
        assert ">Insturen ter beoordeling</button>" in not_now.text

    async def test_the_share_kit_and_a_channel_link_in_dutch(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        await helpers.log_in(client, campaign["_org"].email)
        await in_language(client, "nl")
        detail = f"/dashboard/campaigns/{campaign['id']}"

        created = await submit(client, f"{detail}/share-links", {"channel": "email"}, page=detail)
        page = (await client.get(created.headers["location"].partition("#")[0])).text

        assert "<h2>Delen en insluiten</h2>" in page
        assert '<option value="email">E-mail</option>' in page
        assert [f.split(": ")[0] for f in flashes(page)] == ["Nieuwe link voor E-mail"]
        assert "<td>E-mail</td>" in page and ">live</span>" in page


class TestExportsInDutch:
    async def test_a_refused_filter_is_explained_in_dutch_and_lang_is_no_filter(
        self, client: httpx.AsyncClient
    ) -> None:
        await helpers.signed_in_org(client)

        refused = await client.get("/dashboard/exports/matches.csv", params={"status": "nope", "lang": "nl"})
        repeated = await client.get(
            "/dashboard/exports/donations.csv?lang=nl&since=2026-01-01&since=2026-02-01"
        )
        download = await client.get("/dashboard/exports/donations.csv", params={"lang": "nl"})

        assert refused.status_code == 400 and '<html lang="nl">' in refused.text
        assert "Er klopt iets niet" in refused.text and "lang" not in error_detail(refused.text)
        assert error_detail(refused.text).startswith("Status: Kies een van")
        assert repeated.status_code == 400
        assert error_detail(repeated.text) == "Since: geef deze parameter maar één keer op."
        assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")


class TestShareSnippets:
    @pytest.mark.parametrize(
        ("default_language", "title", "label"),
        [("nl", "Doneer aan", "Doneer"), ("en", "Donate to", "Donate")],
    )
    async def test_snippets_speak_the_campaigns_language_not_the_members(
        self, client: httpx.AsyncClient, database: Database, default_language: str, title: str, label: str
    ) -> None:
        campaign = await live(client, database, title='Coats "for" kids', default_language=default_language)
        await helpers.log_in(client, campaign["_org"].email)
        await in_language(client, "en" if default_language == "nl" else "nl")

        page = (await client.get(f"/dashboard/campaigns/{campaign['id']}")).text

        iframe, button = snippet(page, "snippet-iframe"), snippet(page, "snippet-button")
        assert f'title="{title} Coats &quot;for&quot; kids"' in iframe
        assert f'data-goodloop-label="{label}">{label}</a>' in button


class TestCoverInDutch:
    async def test_a_refused_upload_is_explained_next_to_the_field(self, client: httpx.AsyncClient) -> None:
        await helpers.signed_in_org(client)
        await in_language(client, "nl")
        detail = await helpers.create_campaign_via_page(client)

        response = await post_cover(client, detail, b"%PDF-1.7 not a photo", alt="Een beschrijving")

        assert response.status_code == 422
        assert field_error(response.text, "image") == "Het bestand is geen JPEG-, PNG- of WebP-afbeelding."
        assert '<h2 id="cover-heading">Omslagfoto</h2>' in response.text
        assert '<html lang="nl">' in response.text


class TestWallPagesInDutch:
    async def test_messages_and_updates_with_a_refusal_and_a_flash(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        await helpers.log_in(client, campaign["_org"].email)
        await in_language(client, "nl")
        base = f"/dashboard/campaigns/{campaign['id']}"

        messages = (await client.get(f"{base}/messages")).text
        refused = await submit(client, f"{base}/updates", {"body": ""}, page=f"{base}/updates")
        posted = await submit(client, f"{base}/updates", {"body": "Dank je wel!"}, page=f"{base}/updates")
        updates = (await client.get(posted.headers["location"])).text

        assert "<h1>Berichten</h1>" in messages and "Hier zijn geen berichten." in messages
        assert refused.status_code == 422
        assert field_error(refused.text, "body") == "Schrijf de update in 1 tot 5000 tekens."
        assert flashes(updates) == ["Update geplaatst. Binnen een minuut staat hij op de campagnepagina."]
        assert ">gepubliceerd</span>" in updates and "maximaal 5.000 tekens" in updates

    async def test_a_flagged_message_says_why_in_dutch(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        campaign = await live(client, database)
        await give(client, database, settings, campaign["slug"], name="Sam", message="wire transfer me")
        await helpers.log_in(client, campaign["_org"].email)
        await in_language(client, "nl")

        page = (await client.get(f"/dashboard/campaigns/{campaign['id']}/messages?status=pending")).text

        assert ">wacht op jou</span>" in page
        assert (
            "Gemarkeerd “wire transfer”: Vraagt om geld buiten Goodloop om, waar donateurs geen "
            "ontvangstbewijs, terugbetaling of verdubbeling krijgen."
        ) in page
        assert ">Op de muur tonen</button>" in page


class TestMatchesInDutch:
    async def test_the_empty_page_speaks_dutch(self, client: httpx.AsyncClient) -> None:
        await helpers.signed_in_org(client)
        await in_language(client, "nl")

        page = (await client.get("/dashboard/matches")).text

        assert "<h1>Verdubbelingen</h1>" in page and "Nog geen verdubbelingen." in page

    @pytest.mark.parametrize("status", [s for s in MatchStatus if s is not MatchStatus.VOIDED])
    def test_every_status_and_its_reason_are_translated(self, status: MatchStatus) -> None:
        _ = gettext_for("nl")
        for appealed in (None, datetime(2026, 12, 1, tzinfo=UTC)):
            match = Match(status=status, appealed_at=appealed)
            assert campaign_words.match_reason(match, _) != explain.status_reason(match)
            assert campaign_words.match_status(match, _) != status.value.replace("_", " ")

    @pytest.mark.parametrize("reason", sorted({"refunded", "disputed", "unknown", *REASONS}))
    def test_every_release_reason_is_translated(self, reason: str) -> None:
        match = Match(status=MatchStatus.VOIDED, void_reason=reason)
        assert campaign_words.match_reason(match, gettext_for("nl")) != explain.status_reason(match)

    def test_a_rejection_keeps_the_reviewers_own_words(self) -> None:
        match = Match(
            status=MatchStatus.VOIDED, void_reason="rejected", decision_note="Same card as the owner."
        )
        assert campaign_words.match_reason(match, gettext_for("nl")) == (
            "Een beoordelaar van Goodloop heeft deze verdubbeling afgewezen. "
            "De beoordelaar schreef: Same card as the owner."
        )
        assert campaign_words.match_reason(match, gettext_for("en")) == explain.status_reason(match)


class TestCatalog:
    def test_every_string_of_these_pages_has_a_dutch_translation(self) -> None:
        with CATALOG.open("rb") as f:
            catalog = read_po(f, locale="nl_NL")
        wanted: set[str] = set()
        for path in TEMPLATES:
            options = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}
            found = extract_from_file(
                "jinja2.ext:babel_extract", ROOT / path, keywords=KEYWORDS, options=options
            )
            wanted |= {m if isinstance(m, str) else m[0] for _, m, _, _ in found}
        for path in MODULES:
            found = extract_from_file("python", ROOT / path, keywords=KEYWORDS)
            wanted |= {m if isinstance(m, str) else m[0] for _, m, _, _ in found}

        missing = sorted(m for m in wanted if catalog.get(m) is None)
        untranslated = sorted(
            m for m in wanted if (e := catalog.get(m)) is not None and (e.fuzzy or not all(_texts(e.string)))
        )
        placeholders = sorted(
            m
            for m in wanted
            if (e := catalog.get(m)) is not None
            and any(_names(text) != _names(m) for text in _texts(e.string))
        )

        assert len(wanted) > 150
        assert missing == [] and untranslated == [] and placeholders == []


def _texts(string: object) -> tuple[str, ...]:
    if isinstance(string, str):
        return (string,)
    return tuple(str(s) for s in string) if isinstance(string, (tuple, list)) else ()


def _names(text: str) -> set[str]:
    return set(re.findall(r"%\((\w+)\)s", text)) - {"num"}

"""The account side of the dashboard in Dutch and English (#19): every page, its flash messages
and errors, the nl | en switch, and a member's saved language."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from campaigns.dashboard.recurring_pages import CampaignRow
from campaigns.recurring.schemas import CampaignRecurringFigures
from tests import builders
from tests.campaigns.dashboard import helpers
from tests.campaigns.dashboard.helpers import field_error, form_error, submit

NL = {"Accept-Language": "nl-NL,nl;q=0.9"}
EN = {"Accept-Language": "en-GB,en;q=0.9"}

# path -> (a Dutch sentence on it, the English one)
SIGNED_IN_PAGES = {
    "/dashboard": (
        "Koppel een Stripe-account, zodat donaties rechtstreeks naar je organisatie gaan.",
        "Connect a Stripe account so donations go straight to your organisation.",
    ),
    "/dashboard/members": ("Iemand uitnodigen", "Invite someone"),
    "/dashboard/api-keys": ("Zodat je later weet wat hem gebruikt.", "So you know later what uses it."),
    "/dashboard/notifications": ("Taal van je e-mails", "Language of your emails"),
    "/dashboard/tax-profile": ("Wat er op ontvangstbewijzen staat", "What receipts say"),
    "/dashboard/recurring": ("Nog geen terugkerende giften.", "No recurring gifts yet."),
    "/dashboard/webhooks": ("Zo controleer je de handtekening", "How to check the signature"),
    "/dashboard/password": ("Je wachtwoord wijzigen", "Change your password"),
}
PUBLIC_PAGES = {
    "/": ("Virale donatiecampagnes voor goede doelen", "Viral donation campaigns for nonprofits"),
    "/dashboard/login": ("Nieuw bij Goodloop?", "New to Goodloop?"),
    "/signup": ("Registreer je organisatie", "Sign up your nonprofit"),
    "/dashboard/forgot-password": ("Mail me een link", "Email me a link"),
}


def html_lang(page: str) -> str:
    match = re.search(r'<html lang="([a-z]+)">', page)
    assert match is not None
    return match.group(1)


def flashes(page: str) -> list[str]:
    return re.findall(r'<p class="flash" role="status">(.*?)</p>', page)


class TestEveryPageInBothLanguages:
    @pytest.mark.parametrize("path", sorted(SIGNED_IN_PAGES))
    async def test_a_signed_in_page_speaks_the_browsers_language(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        await helpers.signed_in_org(client)
        dutch, english = SIGNED_IN_PAGES[path]
        nl = await client.get(path, headers=NL)
        assert nl.status_code == 200
        assert html_lang(nl.text) == "nl"
        assert nl.headers["content-language"] == "nl"
        assert dutch in nl.text
        assert english not in nl.text
        assert ">Overzicht</a>" in nl.text and ">Afmelden</button>" in nl.text
        en = await client.get(path, headers=EN)
        assert html_lang(en.text) == "en"
        assert english in en.text
        assert dutch not in en.text
        assert ">Overview</a>" in en.text

    @pytest.mark.parametrize("path", sorted(PUBLIC_PAGES))
    async def test_a_public_dashboard_page_speaks_the_browsers_language(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        dutch, english = PUBLIC_PAGES[path]
        nl = await client.get(path, headers=NL)
        assert nl.status_code == 200
        assert html_lang(nl.text) == "nl" and dutch in nl.text and english not in nl.text
        en = await client.get(path, headers=EN)
        assert html_lang(en.text) == "en" and english in en.text and dutch not in en.text

    async def test_a_used_reset_link_says_so_in_dutch(self, client: httpx.AsyncClient) -> None:
        page = await client.get("/dashboard/reset-password/not-a-token", headers=NL)
        assert page.status_code == 404
        assert "Deze link werkt niet meer" in page.text
        assert form_error(page.text) == (
            "Deze link is niet meer geldig: hij is al gebruikt of het uur is voorbij; vraag een nieuwe aan."
        )

    async def test_the_invitation_page_names_the_role_in_dutch(self, client: httpx.AsyncClient) -> None:
        org = await builders.sign_up(client)
        invited = await client.post(
            "/api/v1/members/invites",
            json={"email": "sam@harbor-relief.org", "role": "viewer"},
            headers=org.headers,
        )
        assert invited.status_code == 201, invited.text
        path = httpx.URL(invited.json()["accept_url"]).path
        page = await client.get(path, headers=NL)
        assert html_lang(page.text) == "nl"
        assert "Je bent uitgenodigd als <strong>lezer</strong> met het adres" in page.text
        english = await client.get(path, headers=EN)
        assert "You were invited as <strong>viewer</strong>" in english.text

    async def test_signing_up_in_dutch_shows_the_key_page_in_dutch(self, client: httpx.AsyncClient) -> None:
        form = helpers.csrf_token_in((await client.get("/signup?lang=nl")).text)
        signed_up = await client.post("/signup", data={"csrf_token": form, **builders.sign_up_payload()})
        assert signed_up.status_code == 200, signed_up.text
        assert html_lang(signed_up.text) == "nl"
        assert "Je account is klaar en je bent aangemeld." in signed_up.text
        assert "Kopieer hem nu." in signed_up.text
        assert 'href="/dashboard?lang=en"' in signed_up.text

    async def test_a_webhook_endpoint_page_in_dutch(self, client: httpx.AsyncClient) -> None:
        await helpers.signed_in_org(client)
        added = await submit(
            client,
            "/dashboard/webhooks?lang=nl",
            {"url": "https://crm.example.org/goodloop", "description": "CRM", "enabled_events": "*"},
            page="/dashboard/webhooks",
        )
        assert added.status_code == 200, added.text
        assert "Kopieer het ondertekeningsgeheim van dit endpoint nu." in added.text
        assert "Alle gebeurtenissen, ook soorten die later bijkomen" in added.text
        assert "Nog geen verzendingen." in added.text
        # Event type names are what receivers match on: never translated.
        assert re.search(r"<code>[a-z_]+\.[a-z_.]+</code>", added.text)


class TestMessagesFromPython:
    async def test_a_flash_after_signing_out_is_dutch(self, client: httpx.AsyncClient) -> None:
        await helpers.signed_in_org(client)
        await client.get("/dashboard?lang=nl")
        signed_out = await submit(client, "/dashboard/logout", page="/dashboard")
        assert signed_out.status_code == 303
        page = await client.get(signed_out.headers["location"])
        assert flashes(page.text) == ["Je bent afgemeld."]

    async def test_saving_notifications_flashes_in_the_pages_language(
        self, client: httpx.AsyncClient
    ) -> None:
        await helpers.signed_in_org(client)
        await client.get("/dashboard/notifications?lang=nl")
        saved = await submit(
            client,
            "/dashboard/notifications",
            {"gift_emails": "each", "money_emails": "on", "language": "en"},
            page="/dashboard/notifications",
        )
        assert saved.status_code == 303
        page = await client.get(saved.headers["location"])
        assert flashes(page.text) == ["Je meldingsinstellingen zijn opgeslagen."]
        assert "Een e-mail bij elke gift" in page.text

    async def test_a_wrong_password_is_refused_in_dutch(self, client: httpx.AsyncClient) -> None:
        org = await builders.sign_up(client)
        await client.get("/dashboard/login?lang=nl")
        refused = await submit(
            client, "/dashboard/login", {"email": org.email, "password": "not the password"}
        )
        assert refused.status_code == 400
        assert form_error(refused.text) == "Dit e-mailadres en wachtwoord horen niet bij een account."

    async def test_a_wrong_current_password_is_refused_next_to_the_field_in_dutch(
        self, client: httpx.AsyncClient
    ) -> None:
        await helpers.signed_in_org(client)
        await client.get("/dashboard/password?lang=nl")
        refused = await submit(
            client,
            "/dashboard/password",
            {"current_password": "not the password", "new_password": "a brand new password"},
            page="/dashboard/password",
        )
        assert refused.status_code == 422
        assert field_error(refused.text, "current_password") == "Dat is niet je huidige wachtwoord."

    async def test_revoking_a_key_flashes_in_dutch(self, client: httpx.AsyncClient) -> None:
        await helpers.signed_in_org(client)
        page = (await client.get("/dashboard/api-keys?lang=nl")).text
        action = re.search(r'action="(/dashboard/api-keys/[0-9a-f-]+/revoke)"', page)
        assert action is not None
        revoked = await submit(client, action.group(1), page="/dashboard/api-keys")
        listing = await client.get(revoked.headers["location"])
        [flash] = flashes(listing.text)
        assert flash.startswith("De sleutel ") and "is ingetrokken" in flash


class TestTheLanguageSwitch:
    async def test_every_page_links_to_itself_in_both_languages(self, client: httpx.AsyncClient) -> None:
        await helpers.signed_in_org(client)
        page = (await client.get("/dashboard/members?lang=nl")).text
        assert '<a href="?lang=nl" hreflang="nl" lang="nl" aria-current="true">Nederlands</a>' in page
        assert '<a href="?lang=en" hreflang="en" lang="en">English</a>' in page

    async def test_the_switch_keeps_the_pages_other_parameters(self, client: httpx.AsyncClient) -> None:
        page = (await client.get("/dashboard/login?next=x&lang=en")).text
        assert 'href="?next=x&amp;lang=nl"' in page

    async def test_a_page_answering_a_post_links_to_a_page_that_exists(
        self, client: httpx.AsyncClient
    ) -> None:
        # The invitation form posts to /dashboard/members/invite, which has no GET page.
        await helpers.signed_in_org(client)
        await client.get("/dashboard/members?lang=nl")
        invited = await submit(
            client,
            "/dashboard/members/invite",
            {"email": "sam@harbor-relief.org", "role": "editor", "submission": "s1"},
            page="/dashboard/members",
        )
        assert invited.status_code == 200, invited.text
        assert 'href="/dashboard/members?lang=nl"' in invited.text
        # The copy button's script speaks the page's language too (service/static/share.js).
        assert 'data-copied="Gekopieerd" data-copied-status="Gekopieerd naar het klembord."' in invited.text
        assert 'href="/dashboard/members?lang=en"' in invited.text
        switched = await client.get("/dashboard/members?lang=en")
        assert switched.status_code == 200 and html_lang(switched.text) == "en"

    async def test_a_choice_is_remembered_on_the_next_pages(self, client: httpx.AsyncClient) -> None:
        await helpers.signed_in_org(client)
        await client.get("/dashboard/members?lang=nl", headers=EN)
        later = await client.get("/dashboard/webhooks", headers=EN)
        assert html_lang(later.text) == "nl"
        back = await client.get("/dashboard/webhooks?lang=en", headers=NL)
        assert html_lang(back.text) == "en"
        assert html_lang((await client.get("/dashboard", headers=NL)).text) == "en"


class TestTheMembersSavedLanguage:
    async def _save_language(self, client: httpx.AsyncClient, language: str) -> builders.Org:
        org = await helpers.signed_in_org(client)
        saved = await submit(
            client,
            "/dashboard/notifications",
            {"gift_emails": "daily", "money_emails": "on", "language": language},
            page="/dashboard/notifications",
        )
        assert saved.status_code == 303
        return org

    async def test_a_new_browser_opens_the_dashboard_in_the_saved_language(
        self, client: httpx.AsyncClient
    ) -> None:
        org = await self._save_language(client, "nl")
        client.cookies.clear()
        await helpers.log_in(client, org.email)
        page = await client.get("/dashboard", headers=EN)
        assert html_lang(page.text) == "nl"
        assert "Koppel een Stripe-account" in page.text

    async def test_a_browser_that_chose_keeps_its_choice(self, client: httpx.AsyncClient) -> None:
        org = await self._save_language(client, "nl")
        client.cookies.clear()
        await client.get("/dashboard/login?lang=en")
        await helpers.log_in(client, org.email)
        assert html_lang((await client.get("/dashboard", headers=NL)).text) == "en"

    async def test_without_a_saved_choice_the_browser_decides(self, client: httpx.AsyncClient) -> None:
        # The organisation is Dutch, so its members' emails default to Dutch; only a choice
        # the member made overrides what the browser asks for.
        org = await builders.sign_up(client, country="NL")
        await helpers.log_in(client, org.email)
        assert html_lang((await client.get("/dashboard", headers=EN)).text) == "en"
        assert html_lang((await client.get("/dashboard", headers=NL)).text) == "nl"


class TestNumbersAndDates:
    async def test_the_overview_writes_money_the_dutch_way(self, client: httpx.AsyncClient) -> None:
        org = await helpers.signed_in_org(client)
        await builders.create_campaign(client, org, goal_minor=500_000, currency="eur", title="Warme jassen")
        nl = (await client.get("/dashboard", headers=NL)).text
        assert "€\xa05.000,00" in nl or "€ 5.000,00" in nl
        en = (await client.get("/dashboard", headers=EN)).text
        assert "€5,000.00" in en

    async def test_members_joined_dates_are_written_in_dutch(self, client: httpx.AsyncClient) -> None:
        await helpers.signed_in_org(client)
        nl = (await client.get("/dashboard/members", headers=NL)).text
        assert re.search(r"lid sinds \d{1,2} [a-z]{3}\.? \d{4}", nl), nl
        assert "laatst aangemeld" in nl


class TestTheSharedResetPages:
    async def test_the_consoles_reset_pages_stay_english(self, client: httpx.AsyncClient) -> None:
        # campaigns.notifications.reset_web serves both areas; the console is English only.
        forgot = await client.get("/admin/forgot-password?lang=nl", headers=NL)
        assert forgot.status_code == 200
        assert html_lang(forgot.text) == "en"
        used = await client.get("/admin/reset-password/not-a-token", headers=NL)
        assert html_lang(used.text) == "en"
        assert "Deze link" not in used.text

    async def test_the_dashboards_reset_pages_follow_the_reader(self, client: httpx.AsyncClient) -> None:
        assert html_lang((await client.get("/dashboard/forgot-password", headers=NL)).text) == "nl"


class TestChurnAsTheLanguageWritesIt:
    @pytest.mark.parametrize(
        ("language", "bps", "shown"),
        [("nl", 1250, "12,50%"), ("en", 1250, "12.50%"), ("nl", 10_000, "100,00%"), ("en", 7, "0.07%")],
    )
    def test_basis_points_become_a_percentage(self, language: str, bps: int, shown: str) -> None:
        figures = CampaignRecurringFigures(
            campaign_id=uuid.UUID(int=1),
            currency="eur",
            active_donors=8,
            mrr_minor=20_000,
            canceled_last_30_days=1,
            active_30_days_ago=8,
            churn_bps=bps,
        )
        assert CampaignRow("Winter", figures, language).churn_text == shown

    def test_no_churn_yet_is_left_to_the_page(self) -> None:
        figures = CampaignRecurringFigures(
            campaign_id=uuid.UUID(int=1),
            currency="eur",
            active_donors=0,
            mrr_minor=0,
            canceled_last_30_days=0,
            active_30_days_ago=0,
            churn_bps=None,
        )
        assert CampaignRow("Winter", figures, "nl").churn_text == ""

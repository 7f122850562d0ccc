"""`goodloop demo`: a verified nonprofit, a member login, an admin console login, a live campaign
with a matching program, and a draft to click through."""

from __future__ import annotations

from datetime import timedelta

from campaigns.campaign import service as campaigns
from campaigns.campaign.schemas import CampaignIn
from campaigns.campaign.status import Action
from campaigns.matching import programs
from campaigns.matching.models import FunderKind
from campaigns.matching.policies import FixedRatioParams
from campaigns.matching.schemas import ProgramIn
from campaigns.nonprofits import repository as nonprofit_queries
from campaigns.nonprofits import service as nonprofits
from campaigns.nonprofits.actors import actor_for_member
from campaigns.nonprofits.schemas import SignUpIn
from service.auth.admins import create_admin, set_admin_password
from service.auth.models import AdminRole
from service.db import Database
from service.settings import Settings
from service.unit_of_work import UnitOfWork

DEMO_EMAIL = "demo@harbor-food-bank.example.org"
DEMO_PASSWORD = "goodloop-demo-2026"  # noqa: S105 - a published demo login on a local sandbox
DEMO_ADMIN_EMAIL = "admin@goodloop.example.org"
DEMO_ADMIN_PASSWORD = "goodloop-admin-2026"  # noqa: S105 - a published demo login on a local sandbox

_STORY = """\
Every winter, families in our harbour town choose between **heating and eating**.

Your gift puts a hot meal on the table:

- 5 EUR feeds a child for a day
- 25 EUR fills a family's basket for a week
- 100 EUR keeps the kitchen open for an evening

[Read our annual report](https://example.org/report)
"""


async def seed_demo(settings: Settings) -> list[str]:
    """Create the demo data once; running it again only reprints how to sign in."""
    database = Database.from_url(settings.database_url)
    base = settings.public_base_url
    lines: list[str] = []
    try:
        async with database.transaction() as session:
            existing = await nonprofit_queries.get_member_by_email(session, DEMO_EMAIL)
            if existing is None:
                lines += await _seed(session, base)
        lines += [
            f"dashboard: {base}/dashboard/login",
            f"  email:    {DEMO_EMAIL}",
            f"  password: {DEMO_PASSWORD}",
            f"admin console: {base}/admin/login",
            f"  email:    {DEMO_ADMIN_EMAIL}",
            f"  password: {DEMO_ADMIN_PASSWORD}",
        ]
    finally:
        await database.dispose()
    return lines


async def _seed(session: UnitOfWork, base: str) -> list[str]:
    signed_up = await nonprofits.sign_up(
        session,
        data=SignUpIn(
            name="Harbor Food Bank",
            contact_email=DEMO_EMAIL,
            password=DEMO_PASSWORD,
            country="IE",
            registration_number="CHY 20123",
            website="https://harbor-food-bank.example.org",
        ),
    )
    admin = await create_admin(session, email=DEMO_ADMIN_EMAIL, role=AdminRole.SUPERADMIN)
    await set_admin_password(session, email=DEMO_ADMIN_EMAIL, password=DEMO_ADMIN_PASSWORD)
    await nonprofits.verify_nonprofit(
        session, admin=admin.admin, nonprofit_id=signed_up.nonprofit.id, note="demo data"
    )
    actor = await actor_for_member(session, member_id=signed_up.owner.id)
    assert actor is not None
    live = await campaigns.create_campaign(
        session,
        actor=actor,
        data=CampaignIn(
            title="Winter meals for 500 families",
            slug="winter-meals",
            story=_STORY,
            currency="eur",
            goal_minor=2_500_000,
            ends_at=session.now() + timedelta(days=60),
            suggested_amounts_minor=[500, 2500, 10000],
        ),
    )
    await campaigns.transition_campaign(session, actor=actor, campaign_id=live.id, action=Action.SUBMIT)
    await campaigns.approve_campaign(session, admin=admin.admin, campaign_id=live.id, note="demo data")
    await campaigns.create_campaign(
        session,
        actor=actor,
        data=CampaignIn(
            title="School breakfast club",
            slug="breakfast-club",
            story="A warm breakfast before class for 120 children.",
            currency="eur",
            goal_minor=800_000,
        ),
    )
    await programs.create_program(
        session,
        admin=admin.admin,
        data=ProgramIn(
            name="Harbor Foundation winter match",
            funder_kind=FunderKind.SPONSOR,
            funder_name="Harbor Foundation",
            currency="eur",
            budget_minor=500_000,
            starts_at=session.now(),
            ends_at=session.now() + timedelta(days=60),
            per_donation_cap_minor=5_000,
            per_donor_cap_minor=10_000,
            hold_days=7,
            review_threshold_minor=10_000,
            policy=FixedRatioParams(ratio_bps=10_000),
        ),
        now=session.now(),
    )
    return [
        "seeded Harbor Food Bank (verified), a live campaign with a 1:1 matching program, and a draft",
        f"nonprofit API key (shown once): {signed_up.api_key_plaintext}",
        f"superadmin {DEMO_ADMIN_EMAIL} API token (shown once): {admin.token}",
    ]

"""JSON shapes of pages, teams and leaderboards with their absolute links (the public API; other
packages' edges may reuse them)."""

from __future__ import annotations

from starlette.requests import Request

from campaigns.fundraising.leaderboard import By, Entry, Of, Tally
from campaigns.fundraising.models import Fundraiser, FundraiserTeam
from campaigns.fundraising.reading import FundraiserView, TeamView
from campaigns.fundraising.schemas import (
    LeaderboardEntryOut,
    LeaderboardOut,
    MilestoneOut,
    MoneyOut,
    PhotoOut,
    PublicFundraiserOut,
    PublicTeamOut,
    TeamMemberOut,
    TeamRefOut,
)
from service.web.urls import public_url_for


def fundraiser_url(request: Request, campaign_slug: str, fundraiser: Fundraiser) -> str:
    return public_url_for(request, "giving:fundraiser", slug=campaign_slug, fundraiser_slug=fundraiser.slug)


def team_url(request: Request, campaign_slug: str, team: FundraiserTeam) -> str:
    return public_url_for(request, "giving:team", slug=campaign_slug, team_slug=team.slug)


def photo_out(request: Request, fundraiser: Fundraiser) -> PhotoOut | None:
    if fundraiser.photo_key is None or not fundraiser.photo_widths:
        return None
    widths = fundraiser.photo_widths

    def src(width: int, ext: str) -> str:
        return public_url_for(request, "media:file", name=fundraiser.photo_file(width, ext))

    widest = widths[-1]
    return PhotoOut(
        alt=fundraiser.photo_alt or "",
        width=widest,
        height=fundraiser.photo_height or 0,
        srcset_webp=", ".join(f"{src(w, 'webp')} {w}w" for w in widths),
        srcset_jpeg=", ".join(f"{src(w, 'jpg')} {w}w" for w in widths),
        src=src(widest, "jpg"),
    )


def _money(minor: int, currency: str) -> MoneyOut:
    return MoneyOut(amount_minor=minor, currency=currency)


def fundraiser_public_out(request: Request, view: FundraiserView) -> PublicFundraiserOut:
    f, slug = view.fundraiser, view.campaign.slug
    return PublicFundraiserOut(
        slug=f.slug,
        title=f.title,
        name=f.name,
        story_html=f.story_html,
        goal=_money(f.goal_minor, f.currency) if f.goal_minor is not None else None,
        raised=_money(view.tally.raised_minor, f.currency),
        donors=view.tally.donors,
        team=(
            TeamRefOut(slug=view.team.slug, name=view.team.name, url=team_url(request, slug, view.team))
            if view.team is not None
            else None
        ),
        milestones=[MilestoneOut(kind=m.kind, reached_at=m.reached_at) for m in view.milestones],
        photo=photo_out(request, f),
        url=fundraiser_url(request, slug, f),
        share_url=public_url_for(request, "sharing:follow", code=view.share_code),
        campaign_slug=slug,
        organisation=view.nonprofit.name,
    )


def team_public_out(request: Request, view: TeamView) -> PublicTeamOut:
    slug, currency = view.campaign.slug, view.campaign.currency
    return PublicTeamOut(
        slug=view.team.slug,
        name=view.team.name,
        url=team_url(request, slug, view.team),
        raised=_money(view.tally.raised_minor, currency),
        donors=view.tally.donors,
        members=[
            TeamMemberOut(
                slug=m.fundraiser.slug,
                name=m.fundraiser.name,
                title=m.fundraiser.title,
                url=fundraiser_url(request, slug, m.fundraiser),
                raised=_money(m.tally.raised_minor, currency),
                donors=m.tally.donors,
            )
            for m in view.members
        ],
        campaign_slug=slug,
    )


def leaderboard_out(
    request: Request, *, campaign_slug: str, currency: str, of: Of, by: By, entries: list[Entry]
) -> LeaderboardOut:
    def entry_out(entry: Entry) -> LeaderboardEntryOut:
        subject, tally = entry.subject, entry.tally
        if isinstance(subject, Fundraiser):
            title: str | None = subject.title
            url = fundraiser_url(request, campaign_slug, subject)
        else:
            title, url = None, team_url(request, campaign_slug, subject)
        return LeaderboardEntryOut(
            rank=entry.rank,
            slug=subject.slug,
            name=subject.name,
            title=title,
            url=url,
            donors=tally.donors,
            raised=_money(tally.raised_minor, currency),
        )

    return LeaderboardOut(of=of, by=by, entries=[entry_out(e) for e in entries])


__all__ = ["Tally", "fundraiser_public_out", "leaderboard_out", "photo_out", "team_public_out"]

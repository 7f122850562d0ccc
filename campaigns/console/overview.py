"""The console's front page: money raised and matched, pools burning down, backlog, trouble."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from campaigns.console import charts
from campaigns.console import overview_repository as repository
from campaigns.console.auth import admin_page
from campaigns.matching.models import MatchingProgram, MatchStatus
from service.auth.models import Admin
from service.money import format_money
from service.web.context import database
from service.web.pages import render

RAISED_DAYS = 30
STATUS_ORDER = list(MatchStatus)
STATUS_LABELS = {
    MatchStatus.PENDING: "pending (hold)",
    MatchStatus.HELD_FOR_REVIEW: "held for review",
    MatchStatus.APPROVED: "approved",
    MatchStatus.PAID: "paid",
    MatchStatus.VOIDED: "voided",
}


@dataclass(frozen=True)
class Pool:
    program: MatchingProgram
    chart: Markup
    committed_share: int
    """Percent of the budget no longer available (whole percent, for the summary line)."""


@dataclass(frozen=True)
class MatchedCurrency:
    currency: str
    totals: list[repository.StatusTotal]
    chart: Markup


def age(since: datetime | None, now: datetime) -> str:
    """'3 d 4 h', '2 h 5 min', '12 min' — how long something has waited."""
    if since is None:
        return ""
    seconds = max(int((now - since).total_seconds()), 0)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {rest // 60} min"
    return f"{rest // 60} min"


def _money(amount_minor: int, *, currency: str) -> str:
    return format_money(amount_minor, currency)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _matched(totals: list[repository.StatusTotal]) -> list[MatchedCurrency]:
    out = []
    for currency in sorted({t.currency for t in totals}):
        rows = sorted(
            (t for t in totals if t.currency == currency), key=lambda t: STATUS_ORDER.index(t.status)
        )
        bars = [
            charts.Bar(
                label=STATUS_LABELS[t.status],
                value=t.amount_minor,
                caption=f"{format_money(t.amount_minor, currency)} · {_count(t.count, 'match', 'matches')}",
                css_class=f"bar bar-{t.status.value}",
            )
            for t in rows
        ]
        chart = charts.horizontal_bars(
            f"Matched money by status, {currency.upper()}", bars, chart_id=f"matched-{currency}"
        )
        out.append(MatchedCurrency(currency=currency, totals=rows, chart=chart))
    return out


def _raised_charts(per_day: dict[str, dict[date, int]], today: date) -> dict[str, Markup]:
    days = [today - timedelta(days=RAISED_DAYS - 1 - i) for i in range(RAISED_DAYS)]
    return {
        currency: charts.daily_columns(
            f"Raised per day over the last {RAISED_DAYS} days, {currency.upper()}",
            days,
            [amounts.get(d, 0) for d in days],
            label=functools.partial(_money, currency=currency),
            chart_id=f"raised-{currency}",
        )
        for currency, amounts in sorted(per_day.items())
    }


def remaining_by_day(
    program: MatchingProgram, committed: dict[date, int], today: date
) -> list[tuple[date, int]]:
    """Budget left at the end of each day from the start to today (or the end, if sooner)."""
    start, last = program.starts_at.date(), min(today, program.ends_at.date())
    # Matches reserved before the window opened (none should be) count on its first day.
    spent = sum(amount for day, amount in committed.items() if day < start)
    out = []
    day = start
    while day <= last:
        spent += committed.get(day, 0)
        out.append((day, program.budget_minor - spent))
        day += timedelta(days=1)
    return out


def _pool(program: MatchingProgram, committed: dict[date, int], today: date) -> Pool:
    burn = charts.BurnDown(
        budget_minor=program.budget_minor,
        start=program.starts_at.date(),
        end=program.ends_at.date(),
        today=today,
        remaining_by_day=remaining_by_day(program, committed, today),
    )
    chart = charts.burn_down(
        f"Pool left for {program.name} by day, against spending evenly to the end date",
        burn,
        label=functools.partial(_money, currency=program.currency),
        chart_id=f"burn-{program.id}",
    )
    used = program.budget_minor - program.available_minor
    return Pool(program=program, chart=chart, committed_share=used * 100 // program.budget_minor)


async def load_overview(session: AsyncSession, *, now: datetime) -> dict[str, object]:
    today = now.date()
    programs = await repository.active_programs(session)
    committed = await repository.committed_per_day(session, program_ids=[p.id for p in programs])
    since = datetime.combine(today - timedelta(days=RAISED_DAYS - 1), datetime.min.time(), tzinfo=now.tzinfo)
    return {
        "raised": await repository.raised_by_currency(session),
        "raised_charts": _raised_charts(await repository.raised_per_day(session, since=since), today),
        "matched": _matched(await repository.matches_by_status(session)),
        "pools": [_pool(p, committed.get(p.id, {}), today) for p in programs],
        "backlog": await repository.review_backlog(session),
        "dead": await repository.dead_letters(session),
    }


@admin_page()
async def overview_page(request: Request, admin: Admin) -> Response:
    now = database(request).clock.now()
    async with database(request).transaction() as session:
        context = await load_overview(session, now=now)
    context |= {"admin": admin, "now": now, "age": age, "status_labels": STATUS_LABELS}
    return render(request, "console/overview.html", context, language="en")

"""The application factory: the one place that assembles every package's routes and jobs."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from collections.abc import AsyncIterator, Sequence
from importlib.metadata import version

import stripe
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from campaigns import wiring
from campaigns.campaign import routes as campaign_routes
from campaigns.console import auth as console_auth
from campaigns.console import routes as console_routes
from campaigns.dashboard import auth as dashboard_auth
from campaigns.dashboard import routes as dashboard_routes
from campaigns.demo import seed_demo
from campaigns.donations import own_routes as own_donation_routes
from campaigns.donations import routes as donation_routes
from campaigns.engagement import routes as engagement_routes
from campaigns.engagement.recorder import EngagementRecorder
from campaigns.exports import fundraiser_routes as export_fundraiser_routes
from campaigns.exports import routes as export_routes
from campaigns.fundraising import nonprofit_routes as fundraising_nonprofit_routes
from campaigns.fundraising import routes as fundraising_routes
from campaigns.fundraising import service as fundraising
from campaigns.giving import embed_pages as giving_embed_pages
from campaigns.giving import fast_pages as giving_fast_pages
from campaigns.giving import fundraiser_pages as giving_fundraiser_pages
from campaigns.giving import live_pages as giving_live_pages
from campaigns.giving import pages as giving_pages
from campaigns.giving import routes as giving_routes
from campaigns.giving import share_pages as giving_share_pages
from campaigns.giving import site_pages as giving_site_pages
from campaigns.giving import wall_pages as giving_wall_pages
from campaigns.giving import wall_routes as giving_wall_routes
from campaigns.integrations import dispatch as webhook_dispatch
from campaigns.integrations import routes as integration_routes
from campaigns.matching import review_routes as matching_review_routes
from campaigns.matching import rounds as matching_rounds
from campaigns.matching import routes as matching_routes
from campaigns.moderation import report_pages
from campaigns.moderation import routes as moderation_routes
from campaigns.nonprofits import routes as nonprofit_routes
from campaigns.nonprofits.web import api_actor
from campaigns.notifications import digest as notification_digest
from campaigns.notifications import purge as notification_purge
from campaigns.notifications import routes as notification_routes
from campaigns.payouts import outbox as payout_outbox
from campaigns.payouts import routes as payout_routes
from campaigns.portal import pages as portal_pages
from campaigns.portal import signin as portal_signin
from campaigns.receipts import mailing as receipt_mailing
from campaigns.receipts import routes as receipt_routes
from campaigns.recurring import card_pages as recurring_card_pages
from campaigns.recurring import routes as recurring_routes
from campaigns.sharing import routes as sharing_routes
from service import i18n, media
from service.auth.models import AdminRole
from service.clock import SystemClock
from service.db import Database
from service.errors import DomainError
from service.mail import links as mail_links
from service.mail import pages as mail_pages
from service.mail import sender as mail_sender
from service.settings import SANDBOX_MAIL_PATH, SANDBOX_PATH, Settings
from service.stripe_gateway import create_client
from service.stripe_sandbox.app import create_sandbox_app
from service.web import errors, idempotency, ops
from service.web.api import ApiRoutes, Operation, openapi_document
from service.web.context import database as database_of
from service.web.fast_path import PageFastPathMiddleware
from service.web.guards import api_admin
from service.web.microcache import MicroCache
from service.web.middleware import MAX_BODY_BYTES, RequestBodyLimitMiddleware, RequestContextMiddleware
from service.web.pages import STATIC_DIR
from service.web.sessions import SessionMiddleware
from service.worker import CORE_JOBS, Job, Worker
from webhooks import intake as webhook_intake
from webhooks import processor as webhook_processor
from webhooks import routes as webhook_routes
from webhooks.commands import check_ledger, reconcile_events, replay_event
from webhooks.intake_writer import InboxWriter

__all__ = [
    "check_ledger",
    "create_app",
    "reconcile_events",
    "replay_event",
    "seed_demo",
    "worker_jobs",
]

API_PREFIX = "/api/v1"
SESSION_COOKIE = "goodloop_session"


def api_routes() -> list[ApiRoutes]:
    return [
        nonprofit_routes.build(),
        notification_routes.build(),
        receipt_routes.build(),
        recurring_routes.build(),
        campaign_routes.build(),
        engagement_routes.build(),
        moderation_routes.build(),
        giving_routes.build(),
        fundraising_routes.build(),
        giving_wall_routes.build(),
        matching_routes.build(),
        matching_review_routes.build(),
        payout_routes.build(),
        donation_routes.build(),
        own_donation_routes.build(),
        export_routes.build(),
        export_fundraiser_routes.build(),
        fundraising_nonprofit_routes.build(),
        integration_routes.build(),
        webhook_routes.build(),
    ]


def worker_jobs(
    stripe_client: stripe.StripeClient | None = None, settings: Settings | None = None
) -> Sequence[Job]:
    wiring.wire()
    return (
        *CORE_JOBS,
        webhook_processor.JOB,
        matching_rounds.JOB,
        payout_outbox.job(stripe_client),
        receipt_mailing.JOB,
        *mail_sender.jobs(settings),
        notification_digest.JOB,
        notification_purge.JOB,
        portal_signin.JOB,
        fundraising.PURGE_JOB,
        webhook_dispatch.job(settings),
        idempotency.JOB,
    )


def build_openapi(parts: Sequence[ApiRoutes]) -> dict[str, object]:
    operations: list[Operation] = [op for part in parts for op in part.operations]
    return openapi_document(operations, title="Goodloop API", version=version("goodloop"), prefix=API_PREFIX)


@functools.cache
def encoded_openapi() -> bytes:
    """The API's OpenAPI document, encoded. It follows from the code alone and pydantic takes a
    fifth of a second to build it, so a process builds it once however many apps it makes (the
    test suite makes one per test)."""
    return json.dumps(build_openapi(api_routes()), separators=(",", ":")).encode()


def create_app(
    settings: Settings,
    *,
    database: Database | None = None,
    stripe_client: stripe.StripeClient | None = None,
    run_worker: bool = False,
) -> Starlette:
    """Build the ASGI app; database and Stripe client are made here unless tests hand them in."""
    wiring.wire()
    # A .po that does not parse stops the app here, not a page at first use (service.i18n).
    i18n.ensure_catalogs()
    # The process's one clock: a database handed in brings its own (a test's, the simulator's).
    clock = database.clock if database is not None else SystemClock()
    parts = api_routes()
    openapi_body = encoded_openapi()
    # A document of this app's own, so nothing one app does to it reaches another.
    openapi: dict[str, object] = json.loads(openapi_body)

    async def openapi_json(request: Request) -> Response:
        return Response(openapi_body, media_type="application/json")

    # Starlette tries routes in order: the donor's path (viral traffic) and Stripe's
    # deliveries come first so they are matched after a handful of patterns, not a hundred.
    # Each area is a Mount named after it: its routes are `<area>:<name>` and their paths
    # are relative to the mount. The donor's pages, Stripe's intake and ops sit at the top
    # level (their names still say their area). Every name is tested to round-trip.
    routes: list[BaseRoute] = [
        *giving_pages.routes,
        *giving_embed_pages.routes,
        *giving_live_pages.routes,
        *giving_wall_pages.routes,
        *giving_share_pages.routes,
        *giving_fundraiser_pages.routes,
        *sharing_routes.routes,
        *report_pages.routes,
        *webhook_intake.routes,
        *ops.routes,
        *giving_site_pages.routes,
        *portal_pages.routes,
        *recurring_card_pages.routes,
        *media.routes,
        Mount(
            API_PREFIX,
            routes=[
                Route("/openapi.json", openapi_json, methods=["GET"], name="openapi"),
                *[route for part in parts for route in part.routes],
            ],
            name="api",
        ),
        *dashboard_routes.site_routes,
        Mount(dashboard_auth.PREFIX, routes=dashboard_routes.routes, name="dashboard"),
        *console_routes.site_routes,
        Mount(console_auth.PREFIX, routes=console_routes.routes, name="console"),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    if settings.uses_stripe_sandbox and not settings.is_production:
        routes.append(Mount(SANDBOX_PATH, app=create_sandbox_app(settings), name="sandbox"))
    if settings.captures_mail:
        routes += [
            *mail_pages.site_routes(SANDBOX_MAIL_PATH),
            Mount(SANDBOX_MAIL_PATH, routes=mail_pages.routes, name="mailbox"),
        ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = database or Database.from_url(settings.database_url, clock=clock)
        app.state.database = db
        # Live progress: the process's one subscription and its in-memory fan-out.
        app.state.live = giving_live_pages.broker(db, settings)
        # Engagement is counted in this process's memory, so every serving process flushes
        # its own counts, also with --no-worker (then the worker runs that job alone).
        recorder: EngagementRecorder = app.state.engagement
        jobs = (*worker_jobs(app.state.stripe, settings), recorder.job()) if run_worker else (recorder.job(),)
        worker = Worker(db, jobs)
        worker_task = asyncio.create_task(worker.run_forever(), name="goodloop-worker")
        try:
            yield
        finally:
            await app.state.live.aclose()
            await app.state.page_cache.aclose()
            worker.stop()
            await worker_task
            await recorder.close(db)
            if database is None:
                await db.dispose()

    middleware = [
        Middleware(RequestContextMiddleware, hsts=settings.is_production),
        # Cached public pages and Stripe's deliveries are answered here, before the router and
        # the middleware below (service/web/fast_path.py).
        Middleware(
            PageFastPathMiddleware,
            routes=(*webhook_intake.FAST_ROUTES, *giving_fast_pages.FAST_ROUTES),
            session_cookie=SESSION_COOKIE,
        ),
        Middleware(RequestBodyLimitMiddleware, max_body_size=MAX_BODY_BYTES),
        Middleware(
            SessionMiddleware,
            secret_key=settings.secret_key,
            session_cookie=SESSION_COOKIE,
            max_age=12 * 60 * 60,
            same_site="lax",
            https_only=settings.is_production,
        ),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={
            DomainError: errors.domain_error,
            HTTPException: errors.http_error,
            # A database outage is a 503 with Retry-After on every route, never a 500.
            **dict.fromkeys(errors.DATABASE_ERRORS, errors.database_error),
            Exception: errors.server_error,
        },
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.stripe = stripe_client or create_client(settings)
    app.state.page_cache = MicroCache(settings.public_page_ttl_s)
    app.state.inbox_writer = InboxWriter()
    app.state.engagement = EngagementRecorder(settings.secret_key, clock=clock.now)
    app.state.openapi = openapi
    app.state.check_api_caller = check_api_caller
    app.state.api_caller_identity = api_caller_identity
    # Emails are composed inside use cases, without a request: their absolute links come from here.
    mail_links.configure(public_base_url=settings.public_base_url, router=app.router)
    return app


async def check_api_caller(request: Request) -> None:
    """Whether an API caller's credentials hold (api.CallerCheck): an admin token on the admin
    API, a nonprofit API key elsewhere. Read only; the session is rolled back."""
    async with database_of(request).unit_of_work() as session:
        if request.url.path.startswith(f"{API_PREFIX}/admin/"):
            await api_admin(request, session, *AdminRole)
        else:
            await api_actor(request, session)


async def api_caller_identity(request: Request) -> str:
    """Whose Idempotency-Key a request uses (idempotency.CallerIdentity): the admin on the admin
    API, the nonprofit elsewhere (all its API keys share its keys). Read only, rolled back."""
    async with database_of(request).unit_of_work() as session:
        if request.url.path.startswith(f"{API_PREFIX}/admin/"):
            admin = await api_admin(request, session, *AdminRole)
            return f"admin:{admin.id}"
        actor = await api_actor(request, session)
        return f"nonprofit:{actor.nonprofit_id}"

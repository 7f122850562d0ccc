"""GET /c/{slug}/live: a campaign's live progress as Server-Sent Events.

One short transaction per connection reads the current progress (the first `progress` event);
after that the stream holds no database session and polls nothing: the process's one
subscription (service.live.LiveBroker, on app.state.live) hands it each `progress` and
`supporter` event its campaign publishes (campaigns.giving.live). The page subscribes before
it reads, and waits until the process is listening, so a gift committed in between is never
missed. A process serves at most `live_max_subscribers` streams; beyond that it answers 503
with Retry-After and the page's script polls the public summary instead.
"""

from __future__ import annotations

from typing import cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from campaigns.campaign.errors import CampaignNotFound
from campaigns.giving import repository
from campaigns.giving.availability import is_public
from campaigns.giving.live import PROGRESS, progress_event, topic_of
from service.db import Database
from service.live import LiveBroker, Message, Resync, TooManySubscribers
from service.settings import Settings
from service.web.context import database, settings
from service.web.event_stream import EventStream

RETRY_AFTER_S = 30
TOPIC_PREFIX = topic_of("")


def broker(db: Database, config: Settings) -> LiveBroker:
    """The process's live broker (service.app's lifespan makes it and closes it)."""
    return LiveBroker(db.engine.url, max_subscribers=config.live_max_subscribers, resync=resync_with(db))


def live_broker(request: Request) -> LiveBroker:
    return cast(LiveBroker, request.app.state.live)


def resync_with(db: Database) -> Resync:
    async def resync(topic: str) -> Message | None:
        """A watched campaign's current progress, sent again after the broker reconnected."""
        if not topic.startswith(TOPIC_PREFIX):
            return None
        async with db.transaction() as session:
            found = await repository.get_campaign_with_nonprofit(session, topic.removeprefix(TOPIC_PREFIX))
        if found is None:
            return None
        return Message(topic=topic, latest={PROGRESS: progress_event(found[0])})

    return resync


def _unavailable(detail: str) -> Response:
    return JSONResponse(
        {"error": "live_unavailable", "detail": detail},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S), "Cache-Control": "no-store"},
    )


async def live_stream(request: Request) -> Response:
    slug: str = request.path_params["slug"]
    live = live_broker(request)
    try:
        subscription = live.subscribe(topic_of(slug))
    except TooManySubscribers:
        return _unavailable(
            "too many live pages are open right now; the page will update by itself a bit later"
        )
    try:
        if not await live.ready():
            live.unsubscribe(subscription)
            return _unavailable("live updates are not available right now; try again in a moment")
        async with database(request).transaction() as session:
            found = await repository.get_campaign_with_nonprofit(session, slug)
        if found is None or not is_public(found[0]):
            raise CampaignNotFound("no such campaign")
        first = [(PROGRESS, progress_event(found[0]))]
    except BaseException:
        live.unsubscribe(subscription)
        raise
    return EventStream(live, subscription, first=first, heartbeat_s=settings(request).live_heartbeat_s)


routes = [Route("/c/{slug:str}/live", live_stream, methods=["GET"], name="giving:live")]

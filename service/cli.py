"""The `goodloop` command: serve, worker, migrate, admin create, demo, events, ledger, stripe."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, TypedDict

from service import i18n
from service.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from starlette.applications import Starlette


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as e:
        print(f"goodloop: {e}", file=sys.stderr)
        return 2
    from service.logging import configure_logging

    configure_logging(json=settings.log_json)
    handler = args.handler
    result: int = handler(settings, args)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="goodloop", description="Goodloop donation platform")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="migrate to head, then serve HTTP (and run the worker)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-worker", action="store_true", help="do not run background jobs in this process")
    serve.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="web processes (PostgreSQL only); with more than one, run `goodloop worker` beside them",
    )
    serve.set_defaults(handler=_serve)

    worker = commands.add_parser("worker", help="run background jobs (webhooks, outbox, housekeeping)")
    worker.set_defaults(handler=_worker)

    migrate = commands.add_parser("migrate", help="upgrade the database schema to head")
    migrate.set_defaults(handler=_migrate)

    admin = commands.add_parser("admin", help="manage platform admins")
    admin_commands = admin.add_subparsers(dest="admin_command", required=True)
    create = admin_commands.add_parser("create", help="create an admin; prints a one-time API token last")
    create.add_argument("--email", required=True)
    create.add_argument("--role", required=True, choices=["reviewer", "finance", "superadmin"])
    create.add_argument(
        "--password-stdin", action="store_true", help="read a console password from standard input"
    )
    create.set_defaults(handler=_admin_create)
    set_password = admin_commands.add_parser(
        "set-password", help="set an admin's console password, read from standard input"
    )
    set_password.add_argument("--email", required=True)
    set_password.set_defaults(handler=_admin_set_password)

    demo = commands.add_parser("demo", help="seed a verified nonprofit, a member login and a live campaign")
    demo.set_defaults(handler=_demo)

    events = commands.add_parser("events", help="the Stripe event inbox")
    events_commands = events.add_subparsers(dest="events_command", required=True)
    replay = events_commands.add_parser("replay", help="queue a stored Stripe event to be processed again")
    replay.add_argument("event_id", help="Stripe event id (evt_...) or inbox row id")
    replay.set_defaults(handler=_events_replay)

    ledger = commands.add_parser("ledger", help="the double-entry ledger")
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True)
    check = ledger_commands.add_parser("check", help="verify ledger, donations and campaign totals agree")
    check.set_defaults(handler=_ledger_check)

    stripe_cmd = commands.add_parser("stripe", help="Stripe operations")
    stripe_commands = stripe_cmd.add_subparsers(dest="stripe_command", required=True)
    reconcile = stripe_commands.add_parser("reconcile", help="enqueue Stripe events the inbox lacks")
    reconcile.add_argument("--since", required=True, type=_timestamp, help="ISO 8601 time or Unix seconds")
    reconcile.set_defaults(handler=_stripe_reconcile)

    mail = commands.add_parser("mail", help="email")
    mail_commands = mail.add_subparsers(dest="mail_command", required=True)
    mail_test = mail_commands.add_parser("test", help="send a sample email now, to check GOODLOOP_SMTP_URL")
    mail_test.add_argument("--to", required=True, help="the address to send it to")
    mail_test.add_argument("--language", choices=["nl", "en"], default="en")
    mail_test.set_defaults(handler=_mail_test)

    i18n_cmd = commands.add_parser("i18n", help="translation catalogs (service/locale)")
    i18n_commands = i18n_cmd.add_subparsers(dest="i18n_command", required=True)
    i18n_check = i18n_commands.add_parser(
        "check", help="list msgids without Dutch, catalog problems and unmarked template text"
    )
    i18n_check.add_argument(
        "--area", action="append", help="only this area (repeatable), e.g. templates/giving"
    )
    i18n_check.set_defaults(handler=_i18n_check)
    i18n_extract = i18n_commands.add_parser("extract", help="write every marked message to a .pot template")
    i18n_extract.add_argument("--output", "-o", default="-", help="file to write (default: stdout)")
    i18n_extract.set_defaults(handler=_i18n_extract)
    return parser


# How `goodloop serve` runs uvicorn; bench/campaign_page.py serves its hello-world baseline with
# the same options. httptools parses and writes HTTP/1.1 in C, where h11 spends about as long
# per request as our whole middleware chain. The plain asyncio loop, not uvloop: under 64
# busy keep-alive connections uvloop served some of them hundreds of milliseconds late.
class ServerOptions(TypedDict):
    http: Literal["httptools"]
    loop: Literal["asyncio"]
    proxy_headers: bool
    server_header: bool
    access_log: bool
    timeout_graceful_shutdown: int


SERVER_OPTIONS = ServerOptions(
    http="httptools",
    loop="asyncio",
    proxy_headers=True,
    server_header=False,
    # Our middleware writes the access line, with the request id.
    access_log=False,
    # Live progress streams (GET /c/{slug}/live) never end by themselves: a graceful shutdown
    # waits this long for them, then closes them; browsers reconnect to another process.
    timeout_graceful_shutdown=5,
)


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from e
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def web_app() -> Starlette:
    """One web process of `goodloop serve --workers N` (uvicorn's factory, called in each process).

    Each process reads the same environment and builds its own app: its own database pool,
    page cache, webhook writer and engagement counts. None runs the background jobs: with
    several web processes they run in `goodloop worker` processes beside them.
    """
    from service.logging import configure_logging

    settings = load_settings()
    configure_logging(json=settings.log_json)
    return _frozen_app(settings, run_worker=False)


def _frozen_app(settings: Settings, *, run_worker: bool) -> Starlette:
    """create_app, then the heap built so far frozen for the cyclic collector."""
    import gc

    from service.app import create_app

    app = create_app(settings, run_worker=run_worker)
    # Everything built so far (modules, routes, templates) lives as long as the process; the
    # cyclic collector need not walk it again on every full collection while serving.
    gc.collect()
    gc.freeze()
    return app


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from migrations.runner import migrate_to_head

    if args.workers > 1 and settings.is_sqlite:
        # SQLite has one writer per file and every process would queue on it (and on its
        # busy timeout); scaling out starts with PostgreSQL.
        print(
            "goodloop: --workers above 1 needs PostgreSQL (DATABASE_URL=postgresql+asyncpg://...); "
            "SQLite takes one writer at a time, so one process serves it",
            file=sys.stderr,
        )
        return 2
    try:
        # Before anything else: a broken translation catalog is a failed deploy, said loudly.
        i18n.check_catalogs()
    except i18n.CatalogError as e:
        print(f"goodloop: {e}", file=sys.stderr)
        return 2
    migrate_to_head(settings.database_url)
    if settings.uses_stripe_sandbox:
        print("goodloop: no STRIPE_SECRET_KEY set; using the local Stripe sandbox", file=sys.stderr)
    trusted = [str(network) for network in settings.trusted_proxies]
    if args.workers > 1:
        # uvicorn starts the processes and restarts one that dies; each builds its app with
        # web_app. The background jobs run elsewhere (docs/scaling.md).
        print(
            f"goodloop: {args.workers} web processes; background jobs (webhook processing, payouts) "
            "are not run by them: run `goodloop worker` beside",
            file=sys.stderr,
        )
        if settings.metrics_address is not None:
            # prometheus_client's registry is per process: a listener here, in the supervisor,
            # would only ever show the supervisor's own (empty) figures.
            print(
                "goodloop: GOODLOOP_METRICS_ADDRESS is not served with --workers above 1 "
                "(metrics are per process; see docs/scaling.md)",
                file=sys.stderr,
            )
        uvicorn.run(
            "service.cli:web_app",
            factory=True,
            workers=args.workers,
            host=args.host,
            port=args.port,
            log_config=None,
            forwarded_allow_ips=trusted,
            **SERVER_OPTIONS,
        )
        return 0
    app = _frozen_app(settings, run_worker=not args.no_worker)
    if settings.metrics_address is not None:
        from prometheus_client import start_http_server

        # Its own listener (a thread of prometheus_client's) on an address operators keep
        # private; the public port then answers 404 at /metrics.
        host, port = settings.metrics_address
        start_http_server(port, addr=host)
    # uvicorn rewrites the client address and scheme from proxy headers too: it must trust
    # exactly the proxies Goodloop trusts (service.web.context.client_address), no others.
    uvicorn.run(
        app, host=args.host, port=args.port, log_config=None, forwarded_allow_ips=trusted, **SERVER_OPTIONS
    )
    return 0


def _i18n_check(settings: Settings, args: argparse.Namespace) -> int:
    """What tests/test_translations.py checks, for every area (or --area), as a to-do list."""
    from service import catalogs

    areas = args.area or catalogs.all_areas()
    found = catalogs.read_catalogs("nl")
    lines = list(catalogs.catalog_problems(found))
    lines += [
        f"{m.path}:{m.line}: no nl entry: {m.msgid!r}"
        for m in catalogs.missing(catalogs.extract(), found, areas)
    ]
    for path in catalogs.translated_templates(areas):
        lines += [f"{u.path}:{u.line}: not marked: {u.text!r}" for u in catalogs.unmarked_text(path)]
    print("\n".join(lines) if lines else "goodloop: every checked area is translated")
    return 1 if lines else 0


def _i18n_extract(settings: Settings, args: argparse.Namespace) -> int:
    """A .pot of every marked message (for translators' tools; the catalogs are the .po files)."""
    import io

    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    from service import catalogs

    template = Catalog(project="Goodloop", charset="utf-8")
    for m in catalogs.extract():
        template.add((m.msgid, m.plural) if m.plural else m.msgid, locations=[(m.path, m.line)])
    buffer = io.BytesIO()
    write_po(buffer, template, sort_by_file=True)
    if args.output == "-":
        sys.stdout.write(buffer.getvalue().decode())
    else:
        with open(args.output, "wb") as f:
            f.write(buffer.getvalue())
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    import signal

    from service.app import create_app, worker_jobs
    from service.db import Database
    from service.worker import Worker

    # Emails the jobs compose link to the site's routes: building the app registers them
    # (service.mail.links); it serves nothing here.
    create_app(settings)

    async def run() -> None:
        database = Database.from_url(settings.database_url)
        worker = Worker(database, worker_jobs(settings=settings))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, worker.stop)
        try:
            await worker.run_forever()
        finally:
            await database.dispose()

    asyncio.run(run())
    return 0


def _mail_test(settings: Settings, args: argparse.Namespace) -> int:
    from service.app import create_app
    from service.db import Database
    from service.mail.commands import send_test

    create_app(settings)  # registers the routes the sample email links to

    async def run() -> tuple[bool, str]:
        database = Database.from_url(settings.database_url)
        try:
            return await send_test(database, settings, to=args.to, language=args.language)
        finally:
            await database.dispose()

    try:
        sent, message = asyncio.run(run())
    except ValueError as e:
        print(f"goodloop: {e}", file=sys.stderr)
        return 2
    print(message, file=sys.stdout if sent else sys.stderr)
    return 0 if sent else 1


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from migrations.runner import migrate_to_head

    migrate_to_head(settings.database_url)
    print("database is at head")
    return 0


def _read_password() -> str:
    # One line from stdin (a pipe or a terminal), never an argument: argv shows up in `ps`.
    return sys.stdin.readline().rstrip("\r\n")


def _admin_create(settings: Settings, args: argparse.Namespace) -> int:
    from service.auth.admins import create_admin, set_admin_password
    from service.auth.models import AdminRole
    from service.db import Database
    from service.errors import DomainError

    password = _read_password() if args.password_stdin else None

    async def run() -> str:
        database = Database.from_url(settings.database_url)
        try:
            async with database.transaction() as session:
                created = await create_admin(session, email=args.email, role=AdminRole(args.role))
                if password is not None:
                    await set_admin_password(session, email=args.email, password=password)
            return created.token
        finally:
            await database.dispose()

    try:
        token = asyncio.run(run())
    except DomainError as e:
        print(f"goodloop: {e.detail}", file=sys.stderr)
        return 1
    print(f"created {args.role} admin {args.email.strip().lower()}")
    if password is not None:
        print("console password set")
    print("the API token below is shown once; store it now")
    print(token)
    return 0


def _admin_set_password(settings: Settings, args: argparse.Namespace) -> int:
    from service.auth.admins import set_admin_password
    from service.db import Database
    from service.errors import DomainError

    password = _read_password()

    async def run() -> None:
        database = Database.from_url(settings.database_url)
        try:
            async with database.transaction() as session:
                await set_admin_password(session, email=args.email, password=password)
        finally:
            await database.dispose()

    try:
        asyncio.run(run())
    except DomainError as e:
        print(f"goodloop: {e.detail}", file=sys.stderr)
        return 1
    print(f"console password set for {args.email.strip().lower()}")
    return 0


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from migrations.runner import migrate_to_head
    from service.app import create_app, seed_demo

    migrate_to_head(settings.database_url)
    # Assembled once, not served: it wires the fact listeners and registers the routes that the
    # approved campaign's fact builds its absolute links from (service.mail.links).
    create_app(settings)
    for line in asyncio.run(seed_demo(settings)):
        print(line)
    return 0


def _timestamp(value: str) -> datetime:
    try:
        parsed = datetime.fromtimestamp(int(value), UTC) if value.isdigit() else datetime.fromisoformat(value)
    except (ValueError, OverflowError, OSError) as e:
        raise argparse.ArgumentTypeError(f"not a time: {value!r}") from e
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _events_replay(settings: Settings, args: argparse.Namespace) -> int:
    from service.app import replay_event
    from service.db import Database

    async def run() -> bool:
        database = Database.from_url(settings.database_url)
        try:
            return await replay_event(database, key=args.event_id) is not None
        finally:
            await database.dispose()

    if not asyncio.run(run()):
        print(f"goodloop: no stored event {args.event_id}", file=sys.stderr)
        return 1
    print(f"event {args.event_id} queued for processing")
    return 0


def _ledger_check(settings: Settings, args: argparse.Namespace) -> int:
    from service.app import check_ledger
    from service.db import Database

    async def run() -> list[str]:
        database = Database.from_url(settings.database_url)
        try:
            return await check_ledger(database)
        finally:
            await database.dispose()

    problems = asyncio.run(run())
    for problem in problems:
        print(problem)
    if problems:
        print(f"goodloop: ledger check found {len(problems)} mismatches", file=sys.stderr)
        return 1
    print("ledger check passed")
    return 0


def _stripe_reconcile(settings: Settings, args: argparse.Namespace) -> int:
    from service.app import reconcile_events
    from service.db import Database
    from service.stripe_gateway import create_client

    async def run() -> tuple[int, list[str]]:
        database = Database.from_url(settings.database_url)
        try:
            result = await reconcile_events(database, create_client(settings), since=args.since)
            return result.listed, result.enqueued
        finally:
            await database.dispose()

    listed, enqueued = asyncio.run(run())
    for event_id in enqueued:
        print(f"enqueued {event_id}")
    print(f"{listed} events listed, {len(enqueued)} enqueued")
    return 0


if __name__ == "__main__":
    sys.exit(main())

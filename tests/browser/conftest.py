"""Headless Chromium against the app served by uvicorn on a loopback port, on a migrated SQLite copy."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Response, ViewportSize, sync_playwright

from service.auth.admins import create_admin
from service.auth.models import AdminRole
from service.db import Database
from service.settings import Settings
from tests import databases
from tests.live_server import free_port, serve

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SECRET_KEY = "browser-test-secret-key-that-is-long-enough-for-checks"
PHONE: ViewportSize = {"width": 390, "height": 844}


class LiveServer:
    def __init__(self, base_url: str, database_url: str) -> None:
        self.base_url = base_url
        self.database_url = database_url

    def url(self, path: str) -> str:
        return self.base_url + path

    def admin_token(self) -> str:
        """A superadmin's bearer token, created the way `goodloop admin create` does."""

        async def create() -> str:
            db = Database.from_url(self.database_url)
            try:
                async with db.transaction() as session:
                    email = f"admin-{uuid.uuid4().hex[:8]}@goodloop.org"
                    created = await create_admin(session, email=email, role=AdminRole.SUPERADMIN)
                return created.token
            finally:
                await db.dispose()

        # Playwright's sync API keeps an event loop running on this thread; use another one.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, create()).result()


@pytest.fixture
def live_server(sqlite_template: Path, sqlite_scratch: Path, tmp_path: Path) -> Iterator[LiveServer]:
    database_url = databases.copy_sqlite_template(sqlite_template, sqlite_scratch)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=database_url,
        secret_key=SECRET_KEY,
        public_base_url=base_url,
        data_dir=tmp_path / "data",
        log_json=False,
    )
    with serve(settings, port=port):
        yield LiveServer(base_url, database_url)


@pytest.fixture(scope="module")
def browser(sqlite_template: Path) -> Iterator[Browser]:
    # Depends on the template so its migration (asyncio.run) happens before Playwright's loop starts.
    # Module scope: Playwright's sync API runs an event loop on this thread while it is open, which
    # would stop every later test's asyncio.run; it must be closed before other modules run.
    if not os.path.exists(CHROMIUM):
        message = f"browser tests need Chromium at {CHROMIUM}"
        if databases.postgres_required():
            pytest.fail(message + "; CI requires them", pytrace=False)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A phone-sized page that fails the test on a console error (a CSP violation is one) or a
    missing asset. Chrome also logs every 4xx document as an error; forms answer 422 on purpose."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def on_response(response: Response) -> None:
        if "/static/" in response.url and response.status >= 400:
            errors.append(f"{response.url} answered {response.status}")

    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        context.close()
    assert errors == [], errors

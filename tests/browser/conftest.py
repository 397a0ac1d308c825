"""Browser tests: the real app served by uvicorn on loopback, driven by Debian's headless Chromium.

A live server cannot share the per-test rolled-back transaction of the API tests, so the
data these tests need is COMMITTED to the test database. Every consultation and user is
created with a unique slug or email and deleted again when the test that made it ends
(ON DELETE CASCADE removes proposals, questions, respondents, responses and answers), so
the rest of the suite, which counts rows, never sees it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from app.config import get_settings
from app.consultations import service as consultations_service
from app.consultations.schemas import ConsultationCreate, ConsultationDetail
from app.enums import Role
from app.main import create_app
from app.users import service as users_service
from tests.factories import consultation_body

T = TypeVar("T")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    return os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"


def sync_url(database_url: str) -> str:
    """A URL plain psycopg accepts (the app's may name the SQLAlchemy dialect)."""
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


class _ThreadedServer(uvicorn.Server):
    """uvicorn in a background thread: signals stay with pytest's main thread."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def install_signal_handlers(self) -> None:  # older uvicorn releases
        pass


@dataclass
class LiveServer:
    url: str
    app: FastAPI
    loop: asyncio.AbstractEventLoop

    def call(self, make: Callable[[], Awaitable[T]], timeout: float = 30) -> T:
        """Runs a coroutine on the server's own event loop (so it may use the app's engine)."""

        async def run() -> T:
            return await make()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout)


# Package scope: the server (and its connection pool) is gone before the other tests run.
@pytest.fixture(scope="package")
def live_server(database_url: str) -> Iterator[LiveServer]:
    saved = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = database_url
    get_settings.cache_clear()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    loop = asyncio.new_event_loop()
    errors: list[BaseException] = []
    try:
        app = create_app()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
        server = _ThreadedServer(config)

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(server.serve(sockets=[sock]))
            except BaseException as exc:  # reported to the fixture below
                errors.append(exc)

        thread = threading.Thread(target=serve, name="live-server", daemon=True)
        thread.start()
        # The lifespan reads the settings (DATABASE_URL) before `started` is set.
        for _ in range(300):
            if server.started or not thread.is_alive():
                break
            thread.join(0.05)
        if not server.started:
            server.should_exit = True
            raise RuntimeError(f"The live server did not start: {errors or 'timed out'}")
    finally:
        if saved is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = saved
        get_settings.cache_clear()
    yield LiveServer(url=f"http://127.0.0.1:{port}", app=app, loop=loop)
    server.should_exit = True
    thread.join(15)
    sock.close()
    if not thread.is_alive():
        loop.close()


@dataclass
class Committed:
    """Creates committed data through the app's services; deletes it when the test ends."""

    server: LiveServer
    database_url: str
    slugs: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)

    def consultation(self, *, status: str = "open") -> ConsultationDetail:
        slug = f"browser-{uuid.uuid4().hex[:12]}"
        self.slugs.append(slug)
        actions = {"draft": [], "open": ["open"], "closed": ["open", "close"]}[status]

        async def create() -> ConsultationDetail:
            async with self.server.app.state.sessionmaker() as session:
                detail = await consultations_service.create_consultation(
                    session, data=ConsultationCreate.model_validate(consultation_body(slug))
                )
                for action in actions:
                    detail = await consultations_service.change_status(
                        session, slug=slug, action=action
                    )
                await session.commit()
                return detail

        return self.server.call(create)

    def user(self, *, password: str, role: Role = Role.analyst, name: str = "Ada Analyst") -> str:
        email = f"browser-{uuid.uuid4().hex[:12]}@example.org"
        self.emails.append(email)

        async def create() -> None:
            async with self.server.app.state.sessionmaker() as session:
                await users_service.create_user(
                    session, email=email, role=role, name=name, password=password
                )
                await session.commit()

        self.server.call(create)
        return email

    def cleanup(self) -> None:
        with psycopg.connect(sync_url(self.database_url), autocommit=True) as conn:
            if self.slugs:
                conn.execute("DELETE FROM consultations WHERE slug = ANY(%s)", (self.slugs,))
            if self.emails:
                conn.execute("DELETE FROM users WHERE email = ANY(%s)", (self.emails,))


@pytest.fixture
def committed(live_server: LiveServer, database_url: str) -> Iterator[Committed]:
    data = Committed(live_server, database_url)
    try:
        yield data
    finally:
        data.cleanup()


@pytest.fixture
def db(database_url: str) -> Callable[..., list[tuple[Any, ...]]]:
    """Runs one query on the test database outside any test transaction (sees committed rows)."""

    def query(sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(sync_url(database_url), autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    return query


# Package scope, not session: while the sync API is active Playwright keeps an event loop
# marked as running in this thread, which would break the async tests that follow.
@pytest.fixture(scope="package")
def playwright_instance() -> Iterator[Playwright]:
    path = chromium_path()
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        message = (
            f"Chromium not found at {path}: install Debian's chromium "
            "(apt-get install -y chromium) or set CHROMIUM_PATH. Browsers are never downloaded."
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="package")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(
        executable_path=chromium_path(), args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def new_context(
    browser: Browser, live_server: LiveServer
) -> Iterator[Callable[..., BrowserContext]]:
    """A fresh context (cookies, storage) per test; JavaScript off unless asked for."""
    contexts: list[BrowserContext] = []

    def make(*, javascript: bool = False) -> BrowserContext:
        context = browser.new_context(base_url=live_server.url, java_script_enabled=javascript)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    """A page without JavaScript: every form must work as plain HTML."""
    return new_context(javascript=False).new_page()

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

# Before the app reads its settings: a fixed key and no submission rate limit by default.
os.environ.setdefault("CONSULT_SECRET_KEY", "test-secret-key")
os.environ["CONSULT_SUBMISSIONS_PER_MINUTE"] = "0"

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app import migrate
from app.config import get_settings
from app.db import make_engine
from app.enums import Role
from app.main import create_app
from app.users import service as users_service
from tests.db import TestDatabase


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    database = TestDatabase()
    url = database.start()
    migrate.upgrade(url)
    yield url
    database.stop()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """Everything a test does happens in one transaction that is rolled back afterwards."""
    async with engine.connect() as conn:
        transaction = await conn.begin()
        yield conn
        await transaction.rollback()


@pytest.fixture(autouse=True)
def fresh_intake_caches() -> Iterator[None]:
    # Tests re-create consultations under the same slugs, which the app itself never does.
    from app.responses.service import clear_caches

    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    # Commits inside the app become savepoint releases within the test's transaction.
    return async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


@pytest.fixture(scope="session")
def app_instance():  # type: ignore[no-untyped-def]
    return create_app()


@pytest.fixture
async def client(app_instance, sessionmaker) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    app_instance.state.sessionmaker = sessionmaker
    transport = httpx.ASGITransport(app=app_instance)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
    app_instance.state.sessionmaker = None


@pytest.fixture
def settings():  # type: ignore[no-untyped-def]
    return get_settings()


class Users:
    """Creates users with tokens inside the test transaction."""

    def __init__(self, session: AsyncSession):
        self.session = session
        self.count = 0

    async def token(self, role: Role, *, member_of: list[str] | None = None) -> str:
        from app.consultations.service import add_member

        self.count += 1
        user, token = await users_service.create_user(
            self.session, email=f"{role.value}{self.count}@example.org", role=role, name=role.value
        )
        for slug in member_of or []:
            await add_member(self.session, slug=slug, email=user.email)
        await self.session.commit()
        return token


@pytest.fixture
def users(session: AsyncSession) -> Users:
    return Users(session)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}

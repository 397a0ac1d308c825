"""Database plumbing: declarative base with a constraint naming convention, engines, sessions."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql import text

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UUIDPrimaryKey:
    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        primary_key=True,
        default=uuid.uuid4,
        server_default=text("gen_random_uuid()"),
    )


class CreatedAt:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


def sqlalchemy_url(url: str) -> str:
    """The psycopg 3 dialect URL for any postgres:// or postgresql:// URL."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError(f"DATABASE_URL must be a PostgreSQL URL, got {url.split(':', 1)[0]}://...")


def libpq_url(url: str) -> str:
    """The plain libpq URL (for psycopg.connect, COPY and procrastinate)."""
    return "postgresql://" + sqlalchemy_url(url).removeprefix("postgresql+psycopg://")


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        sqlalchemy_url(url), pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; it commits once the endpoint has returned.

    Services only flush. The dependency is function-scoped, so the commit happens
    before the response is sent: a receipt never reaches a respondent for a
    response that was not stored.
    """
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def refresh_statistics(session: AsyncSession) -> None:
    """ANALYZE the tables bulk writes fill. ANALYZE counts the transaction's own new rows,
    so after loading data in one transaction (the demo, tests) the statements that follow,
    the count triggers among them, are not planned for empty tables (their nested loops
    turn quadratic)."""
    await session.execute(
        text("ANALYZE answers, responses, respondents, questions, codings, stances")
    )


STATISTICS_TABLES = ("answers", "responses", "respondents", "questions", "codings", "stances")


async def refresh_stale_statistics(session: AsyncSession) -> list[str]:
    """ANALYZE those of the bulk-written tables whose statistics are missing or stale (more
    than 10% + 1,000 rows changed since the last ANALYZE, by the server's counters of
    committed work); returns their names. Cheap when nothing changed, unlike ANALYZE of all
    of them (0.1-0.2 s per run on a small database, more on a large one)."""
    stale = list(
        await session.scalars(
            text(
                "SELECT relname FROM pg_stat_user_tables "
                "WHERE schemaname = current_schema() AND relname = ANY(:tables) "
                "AND (coalesce(last_analyze, last_autoanalyze) IS NULL "
                "OR n_mod_since_analyze > 0.1 * n_live_tup + 1000) ORDER BY relname"
            ),
            {"tables": list(STATISTICS_TABLES)},
        )
    )
    names = [t for t in STATISTICS_TABLES if t in stale]  # only known names reach the SQL
    if names:
        await session.execute(text("ANALYZE " + ", ".join(names)))
    return names

from __future__ import annotations

import httpx
from sqlalchemy import create_engine, inspect

from app import migrate
from app.db import sqlalchemy_url


async def test_healthz_reports_the_migrated_revision(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "revision": migrate.head_revision()}


def test_migrations_downgrade_to_base_and_upgrade_again(database_url: str) -> None:
    # Runs on the session's database; it ends migrated to head as the other tests expect.
    migrate.downgrade(database_url, "base")
    engine = create_engine(sqlalchemy_url(database_url))
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(database_url)
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"consultations", "proposals", "questions", "responses", "answers", "users"} <= tables
    assert migrate.is_up_to_date(database_url)


async def test_openapi_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/consultations/{slug}/responses" in response.json()["paths"]


def test_models_match_the_migrations(database_url: str) -> None:
    # A model change without its migration (or the reverse) shows up as an autogenerate diff.
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import app.models  # noqa: F401  (registers every table)
    from app.db import Base

    engine = create_engine(sqlalchemy_url(database_url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"include_object": _ours, "compare_type": True},
            )
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def _ours(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    # procrastinate's tables live in the same database but are not our models.
    return not (type_ == "table" and name is not None and name.startswith("procrastinate"))

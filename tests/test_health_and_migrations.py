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

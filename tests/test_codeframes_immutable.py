"""The database itself refuses changes to published codeframes and their themes (0011).

The service already refuses them (409 codeframe_published); these tests go around it with
SQL, as a bug or a hand-written fix would, and check the triggers stop them, while the
changes the service makes itself (publishing, superseding, growing the change log, editing
drafts) still work.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import Users
from tests.test_codeframes import World, make_world


@pytest.fixture
async def world(client: httpx.AsyncClient, users: Users) -> World:
    return await make_world(client, users)


async def refused(session: AsyncSession, sql: str, **params: Any) -> str:
    """Runs `sql` in a savepoint; returns the database's error message (fails if none)."""
    with pytest.raises(DBAPIError) as caught:
        async with session.begin_nested():
            await session.execute(text(sql), params)
    return str(caught.value.orig)


async def allowed(session: AsyncSession, sql: str, **params: Any) -> None:
    async with session.begin_nested():
        await session.execute(text(sql), params)


async def test_published_codeframe_and_themes_cannot_change(
    world: World, session: AsyncSession
) -> None:
    v1 = await world.published()
    cf = uuid.UUID(v1["id"])
    message = await refused(
        session, "UPDATE themes SET label = 'Changed' WHERE codeframe_id = :cf", cf=cf
    )
    assert "is published" in message and "themes cannot change" in message
    await refused(
        session, "UPDATE themes SET position = position + 1 WHERE codeframe_id = :cf", cf=cf
    )
    await refused(
        session,
        "INSERT INTO themes (id, codeframe_id, code, label, position) "
        "VALUES (gen_random_uuid(), :cf, 'P1-99', 'Sneaked in', 99)",
        cf=cf,
    )
    for change in (
        "version = 99",
        "status = 'draft'",
        "published_at = now()",
        "change_log = '[]'::jsonb",
        "change_log = change_log - 0",  # an entry removed
        "proposal_id = gen_random_uuid()",
        "based_on_id = gen_random_uuid()",
    ):
        message = await refused(session, f"UPDATE codeframes SET {change} WHERE id = :cf", cf=cf)
        assert "cannot change" in message or "can only grow" in message, change

    # Allowed: the change log grows; a foreign key sets created_by to NULL; no-op updates.
    await allowed(
        session,
        'UPDATE codeframes SET change_log = change_log || \'[{"op": "note"}]\'::jsonb '
        "WHERE id = :cf",
        cf=cf,
    )
    await allowed(session, "UPDATE codeframes SET created_by = NULL WHERE id = :cf", cf=cf)
    await allowed(session, "UPDATE themes SET label = label WHERE codeframe_id = :cf", cf=cf)
    themes = (
        await session.execute(
            text("SELECT code, label FROM themes WHERE codeframe_id = :cf ORDER BY code"),
            {"cf": cf},
        )
    ).all()
    assert [tuple(t) for t in themes] == [(t["code"], t["label"]) for t in v1["themes"]]


async def test_the_service_still_edits_drafts_publishes_and_supersedes(
    world: World, session: AsyncSession
) -> None:
    v1 = await world.published()
    draft = await world.codeframe(
        {"based_on": v1["id"], "operations": [{"op": "rename", "code": "P1-01", "label": "Data"}]}
    )
    # A draft's themes change freely, through the API and in SQL.
    edited = await world.client.patch(
        f"/api/v1/codeframes/{draft['id']}/themes/P1-02",
        json={"description": "Hacking and leaks."},
        headers=world.headers,
    )
    assert edited.status_code == 200, edited.text
    await allowed(
        session,
        "UPDATE themes SET examples = '[\"x\"]'::jsonb WHERE codeframe_id = :cf",
        cf=uuid.UUID(draft["id"]),
    )
    v2 = await world.publish(draft["id"])
    assert v2["status"] == "published"
    statuses = dict(
        (
            await session.execute(
                text("SELECT version, status FROM codeframes WHERE proposal_id = :p"),
                {"p": uuid.UUID(world.proposal_id)},
            )
        ).all()
    )
    assert statuses == {1: "superseded", 2: "published"}
    # A superseded version is frozen too, and cannot come back.
    message = await refused(
        session, "UPDATE codeframes SET status = 'published' WHERE id = :cf", cf=uuid.UUID(v1["id"])
    )
    assert "is superseded" in message
    await refused(
        session,
        "UPDATE codeframes SET change_log = change_log || '[{}]'::jsonb WHERE id = :cf",
        cf=uuid.UUID(v1["id"]),
    )
    await refused(
        session,
        "UPDATE themes SET description = 'x' WHERE codeframe_id = :cf",
        cf=uuid.UUID(v2["id"]),
    )

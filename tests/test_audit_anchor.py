"""Audit log: the head published outside the database, and staff emails kept from reviewers.

`verify` alone cannot notice events removed from the end of the log, nor a log rewritten
wholesale with recomputed hashes: both still form a sound chain. A head (seq:hash) noted
down earlier can: the chain must still hold that event with that hash.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.audit.service import Actor, chain_head, record_event
from app.enums import Role
from tests.conftest import Users, bearer
from tests.factories import create_consultation, submission


def consult(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DATABASE_URL=database_url, COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def flat(output: str) -> str:
    return " ".join(output.split())  # rich wraps long lines


class Committed:
    """Events committed for real (the CLI reads the database from another process); the
    test deletes them afterwards with the append-only trigger briefly disabled."""

    def __init__(self, engine: AsyncEngine, database_url: str):
        self.engine = engine
        self.database_url = database_url
        self.ids: list[uuid.UUID] = []

    async def record(self, action: str) -> str:
        async with AsyncSession(self.engine) as session:
            event = await record_event(
                session,
                action=action,
                entity_type="test",
                entity_id=None,
                before=None,
                after={"n": len(self.ids)},
                actor=Actor.system("anchor-test"),
            )
            head = f"{event.seq}:{event.hash}"
            self.ids.append(event.id)
            await session.commit()
            return head

    def delete_last(self) -> None:
        self._delete([self.ids.pop()])

    def _delete(self, ids: list[uuid.UUID]) -> None:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
            try:
                conn.execute("DELETE FROM audit_events WHERE id = ANY(%s)", (ids,))
            finally:
                conn.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")

    def cleanup(self) -> None:
        if self.ids:
            self._delete(self.ids)


@pytest.fixture
def committed(engine: AsyncEngine, database_url: str) -> Iterator[Committed]:
    events = Committed(engine, database_url)
    yield events
    events.cleanup()


async def test_expect_head_detects_truncation_and_rewrite(
    committed: Committed, database_url: str
) -> None:
    await committed.record("first")
    head = await committed.record("second")

    ok = consult("audit", "verify", "--expect-head", head, database_url=database_url)
    assert ok.returncode == 0, ok.stderr
    assert "extends 1 published head" in flat(ok.stdout)

    # Later events extend the published head.
    await committed.record("third")
    assert (
        consult("audit", "verify", "--expect-head", head, database_url=database_url).returncode == 0
    )

    # Truncation: the last two events removed. The chain left is sound...
    committed.delete_last()
    committed.delete_last()
    assert consult("audit", "verify", database_url=database_url).returncode == 0
    # ...but it no longer reaches the published head.
    truncated = consult("audit", "verify", "--expect-head", head, database_url=database_url)
    assert truncated.returncode == 1
    seq = head.split(":")[0]
    assert f"event {seq} is missing" in flat(truncated.stderr)
    assert "truncated" in flat(truncated.stderr)

    # Rewrite: a different event recorded in its place, with a valid recomputed hash.
    replaced = await committed.record("second, rewritten")
    assert replaced.split(":")[0] == seq and replaced != head
    assert consult("audit", "verify", database_url=database_url).returncode == 0
    rewritten = consult("audit", "verify", "--expect-head", head, database_url=database_url)
    assert rewritten.returncode == 1
    assert "rewritten" in flat(rewritten.stderr) and head.split(":")[1] in flat(rewritten.stderr)


async def test_anchor_file_records_heads_and_checks_them(
    committed: Committed, database_url: str, tmp_path: Path
) -> None:
    anchor = tmp_path / "audit-heads.txt"
    first = await committed.record("first")
    made = consult("audit", "verify", "--anchor", str(anchor), database_url=database_url)
    assert made.returncode == 0, made.stderr
    assert anchor.read_text().split()[0] == first
    # Unchanged head: not written twice.
    assert (
        consult("audit", "verify", "--anchor", str(anchor), database_url=database_url).returncode
        == 0
    )
    assert len(anchor.read_text().splitlines()) == 1

    second = await committed.record("second")
    assert (
        consult("audit", "verify", "--anchor", str(anchor), database_url=database_url).returncode
        == 0
    )
    assert [line.split()[0] for line in anchor.read_text().splitlines()] == [first, second]

    committed.delete_last()
    failed = consult("audit", "verify", "--anchor", str(anchor), database_url=database_url)
    assert failed.returncode == 1
    assert f"{anchor} line 2" in flat(failed.stderr) and "truncated" in flat(failed.stderr)
    assert len(anchor.read_text().splitlines()) == 2  # a failed check anchors nothing


def test_expect_head_must_be_seq_colon_hash(database_url: str) -> None:
    bad = consult("audit", "verify", "--expect-head", "12:abc", database_url=database_url)
    assert bad.returncode == 1 and "SEQ:HASH" in flat(bad.stderr)


async def test_head_api_is_for_admins(
    client: httpx.AsyncClient, session: AsyncSession, users: Users
) -> None:
    await record_event(
        session,
        action="something",
        entity_type="test",
        entity_id=None,
        before=None,
        after=None,
        actor=Actor.system("test"),
    )
    await session.commit()
    head = await chain_head(session)
    assert head is not None
    assert (await client.get("/api/v1/audit/head")).status_code == 401
    for role in (Role.analyst, Role.reviewer):
        token = await users.token(role)
        refused = await client.get("/api/v1/audit/head", headers=bearer(token))
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    admin = await users.token(Role.admin)
    shown = await client.get("/api/v1/audit/head", headers=bearer(admin))
    assert shown.status_code == 200
    body = shown.json()
    assert body["seq"] == head.seq and body["hash"] == head.hash
    assert body["anchor"] == f"{head.seq}:{head.hash}"


async def test_reviewers_export_shows_roles_never_staff_emails(
    client: httpx.AsyncClient, session: AsyncSession, users: Users
) -> None:
    admin = await users.token(Role.admin)
    detail = await create_consultation(client, admin, "mine")
    analyst = await users.token(Role.analyst, member_of=["mine"])
    analyst_email = f"analyst{users.count}@example.org"
    reviewer = await users.token(Role.reviewer, member_of=["mine"])
    created = await client.post("/api/v1/consultations/mine/responses", json=submission(detail))
    from sqlalchemy import select

    from app.responses.models import Response
    from app.users.models import User

    rid = await session.scalar(
        select(Response.id).where(Response.receipt_code == created.json()["receipt_code"])
    )
    excluded = await client.post(
        f"/api/v1/responses/{rid}/exclude", json={"reason": "Test"}, headers=bearer(analyst)
    )
    assert excluded.status_code == 200
    # An event recorded before labels stopped being emails (the old Actor.for_user).
    analyst_user = await session.scalar(select(User).where(User.email == analyst_email))
    assert analyst_user is not None
    await record_event(
        session,
        action="legacy.change",
        entity_type="test",
        entity_id=None,
        before=None,
        after=None,
        actor=Actor(Actor.for_user(analyst_user).type, str(analyst_user.id), analyst_email),
        consultation_id=uuid.UUID(detail["id"]),
    )
    await session.commit()

    def export(token: str) -> list[dict[str, Any]]:
        return (
            [json.loads(line) for line in response.text.splitlines()]
            if (response := exports[token]).status_code == 200
            else []
        )

    exports = {
        token: await client.get(
            "/api/v1/audit/events.jsonl", params={"consultation": "mine"}, headers=bearer(token)
        )
        for token in (reviewer, analyst, admin)
    }
    for_reviewer = export(reviewer)
    assert analyst_email not in exports[reviewer].text and "@" not in exports[reviewer].text
    exclusion = next(e for e in for_reviewer if e["action"] == "response.excluded")
    assert exclusion["actor_label"] == "analyst" and exclusion["actor_id"] == str(analyst_user.id)
    assert "actor_email" not in exclusion
    legacy = next(e for e in for_reviewer if e["action"] == "legacy.change")
    assert legacy["actor_label"] == "staff" and legacy["masked"] == ["actor_label"]

    for token in (analyst, admin):
        events = export(token)
        exclusion = next(e for e in events if e["action"] == "response.excluded")
        assert exclusion["actor_email"] == analyst_email
        legacy = next(e for e in events if e["action"] == "legacy.change")
        assert legacy["actor_label"] == analyst_email and "masked" not in legacy

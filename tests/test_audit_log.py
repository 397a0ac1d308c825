"""The audit log: hash chain, append-only table, verification, JSONL export, logged changes."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess
import sys
import uuid
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import ActorType, AuditEvent
from app.audit.service import GENESIS_HASH, Actor, record_event, verify_chain
from app.enums import Role
from app.responses.models import Response
from app.users.models import User
from tests.conftest import Users, bearer
from tests.factories import create_consultation, submission
from tests.test_auth import MEMBER, RESPONSE_ANALYST, ROUTE_ACCESS

SYSTEM = Actor.system("test")


async def event_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


async def record_some(session: AsyncSession, n: int = 3) -> list[AuditEvent]:
    consultation_id = uuid.uuid4()
    events = []
    for i in range(n):
        events.append(
            await record_event(
                session,
                action="coding.changed",
                entity_type="coding",
                entity_id=uuid.uuid4(),
                before={"themes": ["a"], "confidence": 0.5 + i, "note": "café ✓"} if i else None,
                after={"themes": ["a", "b"], "big": 1e20, "nested": {"z": 1, "a": [True, None]}},
                actor=SYSTEM if i % 2 else Actor.model("baseline-v1"),
                consultation_id=consultation_id,
            )
        )
    await session.commit()
    return events


async def test_a_chain_of_events_verifies(session: AsyncSession) -> None:
    existing = await event_count(session)
    events = await record_some(session, 5)
    assert [e.seq for e in events] == list(range(existing + 1, existing + 6))
    for earlier, later in itertools.pairwise(events):
        assert later.prev_hash == earlier.hash
    if existing == 0:
        assert events[0].prev_hash == GENESIS_HASH
    result = await verify_chain(session)
    assert result.ok and result.reason is None and result.first_bad_seq is None
    assert result.events_checked == existing + 5
    assert (result.last_seq, result.last_hash) == (events[-1].seq, events[-1].hash)


@pytest.mark.parametrize(
    ("operation", "statement"),
    [
        ("UPDATE", "UPDATE audit_events SET action = 'forged'"),
        ("DELETE", "DELETE FROM audit_events"),
        ("TRUNCATE", "TRUNCATE audit_events"),
        # Refused even when nothing matches: the trigger is per statement.
        ("UPDATE", "UPDATE audit_events SET action = 'forged' WHERE false"),
    ],
)
async def test_the_database_refuses_changes(
    session: AsyncSession, operation: str, statement: str
) -> None:
    await record_some(session, 2)
    before = await event_count(session)
    with pytest.raises(DBAPIError, match=f"audit_events is append-only: {operation} is refused"):
        async with session.begin_nested():
            await session.execute(text(statement))
    assert await event_count(session) == before
    assert (await verify_chain(session)).ok


async def tamper(session: AsyncSession, statement: str, params: dict[str, Any]) -> None:
    """Changes the log behind the trigger's back (rolled back with the test's transaction)."""
    await session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    await session.execute(text(statement), params)
    await session.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
    await session.commit()
    session.expunge_all()


async def test_an_altered_event_is_named_by_verify(
    session: AsyncSession, client: httpx.AsyncClient, users: Users
) -> None:
    events = await record_some(session, 4)
    target = events[1]
    await tamper(
        session,
        "UPDATE audit_events SET after = CAST(:after AS jsonb) WHERE seq = :seq",
        {"after": json.dumps({"themes": ["forged"]}), "seq": target.seq},
    )
    result = await verify_chain(session)
    assert not result.ok
    assert (result.first_bad_seq, result.first_bad_id) == (target.seq, target.id)
    assert result.reason is not None and result.reason.startswith("hash mismatch")
    assert result.last_seq == events[0].seq

    admin = await users.token(Role.admin)
    checked = await client.get("/api/v1/audit/verify", headers=bearer(admin))
    assert checked.status_code == 200, checked.text
    body = checked.json()
    assert body["ok"] is False and body["events_checked"] == result.events_checked
    assert body["first_bad"]["seq"] == target.seq and body["first_bad"]["id"] == str(target.id)
    assert body["first_bad"]["reason"].startswith("hash mismatch")


async def test_a_rehashed_event_breaks_the_next_link(session: AsyncSession) -> None:
    events = await record_some(session, 3)
    # A forger who also recomputes the altered event's hash is caught by the next event.
    await tamper(
        session,
        "UPDATE audit_events SET hash = :fake WHERE seq = :seq",
        {"fake": "f" * 64, "seq": events[0].seq},
    )
    result = await verify_chain(session)
    assert not result.ok and result.first_bad_seq == events[0].seq  # its own hash is wrong
    await tamper(
        session,
        "UPDATE audit_events SET hash = :real WHERE seq = :seq",
        {"real": events[0].hash, "seq": events[0].seq},
    )
    assert (await verify_chain(session)).ok
    await tamper(
        session,
        "UPDATE audit_events SET prev_hash = :fake WHERE seq = :seq",
        {"fake": "e" * 64, "seq": events[2].seq},
    )
    result = await verify_chain(session)
    assert not result.ok and result.first_bad_seq == events[2].seq
    assert result.reason is not None and result.reason.startswith("prev_hash mismatch")


async def test_a_deleted_event_is_a_gap(session: AsyncSession) -> None:
    events = await record_some(session, 3)
    await tamper(session, "DELETE FROM audit_events WHERE seq = :seq", {"seq": events[1].seq})
    result = await verify_chain(session)
    assert not result.ok and result.first_bad_seq == events[2].seq
    assert result.first_bad_id == events[2].id
    assert result.reason is not None and result.reason.startswith("gap in seq")


def reverify(lines: list[str]) -> list[dict[str, Any]]:
    """The recomputation documented in app/audit/service.py, using nothing from the app."""
    prev = "0" * 64
    events = []
    for n, line in enumerate(lines, start=1):
        event = json.loads(line)
        claimed = event.pop("hash")
        event.pop("actor_email", None)  # staff exports only; not hashed
        body = json.dumps(event, sort_keys=True, separators=(",", ":")).encode()
        assert event["seq"] == n and event["prev_hash"] == prev, n
        assert hashlib.sha256(body).hexdigest() == claimed, n
        prev = claimed
        events.append(event)
    return events


@pytest.fixture
async def consultation(client: httpx.AsyncClient, users: Users) -> dict[str, Any]:
    admin = await users.token(Role.admin)
    await create_consultation(client, admin, "theirs")
    return await create_consultation(client, admin, "mine")


async def submit(client: httpx.AsyncClient, detail: dict[str, Any]) -> dict[str, Any]:
    created = await client.post(
        f"/api/v1/consultations/{detail['slug']}/responses", json=submission(detail)
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


async def response_id(session: AsyncSession, receipt: dict[str, Any]) -> uuid.UUID:
    found = await session.scalar(
        select(Response.id).where(Response.receipt_code == receipt["receipt_code"])
    )
    assert found is not None
    return found


async def withdraw(client: httpx.AsyncClient, receipt: dict[str, Any]) -> None:
    url = f"/api/v1/consultations/mine/responses/{receipt['receipt_code']}/withdraw"
    withdrawn = await client.post(url, json={"secret": receipt["secret"]})
    assert withdrawn.status_code == 200, withdrawn.text


async def last_events(session: AsyncSession, n: int) -> list[AuditEvent]:
    rows = await session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(n))
    return list(reversed(list(rows)))


async def test_withdrawal_is_logged_once(
    client: httpx.AsyncClient, session: AsyncSession, consultation: dict[str, Any]
) -> None:
    receipt = await submit(client, consultation)
    before = await event_count(session)
    await withdraw(client, receipt)
    await withdraw(client, receipt)  # withdrawing again changes nothing and logs nothing
    assert await event_count(session) == before + 1
    (event,) = await last_events(session, 1)
    response = await session.get(Response, await response_id(session, receipt))
    assert response is not None
    assert event.action == "response.withdrawn" and event.entity_type == "response"
    assert event.entity_id == str(response.id)
    assert event.consultation_id == uuid.UUID(consultation["id"])
    assert event.actor_type == ActorType.respondent
    assert event.actor_id == str(response.respondent_id) and event.actor_label == "respondent"
    assert event.before == {"status": "received", "status_reason": None}
    assert event.after == {"status": "withdrawn", "status_reason": "withdrawn by the respondent"}
    assert (await verify_chain(session)).ok


async def test_exclusion_and_inclusion_are_logged(
    client: httpx.AsyncClient, session: AsyncSession, users: Users, consultation: dict[str, Any]
) -> None:
    analyst = await users.token(Role.analyst, member_of=["mine"])
    rid = await response_id(session, await submit(client, consultation))
    url = f"/api/v1/responses/{rid}"
    before = await event_count(session)

    excluded = await client.post(
        f"{url}/exclude",
        json={"reason": "Duplicate of a campaign response"},
        headers=bearer(analyst),
    )
    assert excluded.status_code == 200, excluded.text
    assert excluded.json()["status"] == "excluded"
    assert excluded.json()["status_reason"] == "Duplicate of a campaign response"
    # The same exclusion again is no change and no event.
    again = await client.post(
        f"{url}/exclude",
        json={"reason": "Duplicate of a campaign response"},
        headers=bearer(analyst),
    )
    assert again.status_code == 200
    included = await client.post(f"{url}/include", headers=bearer(analyst))
    assert included.status_code == 200 and included.json()["status"] == "received"
    assert included.json()["status_reason"] is None

    assert await event_count(session) == before + 2
    excluded_event, included_event = await last_events(session, 2)
    assert excluded_event.action == "response.excluded"
    assert excluded_event.actor_type == ActorType.user
    # The role and the user's id, never the email (reviewers read the log).
    assert excluded_event.actor_label == "analyst"
    assert excluded_event.actor_id == str(
        await session.scalar(select(User.id).where(User.email == "analyst2@example.org"))
    )
    assert excluded_event.before == {"status": "received", "status_reason": None}
    assert excluded_event.after == {
        "status": "excluded",
        "status_reason": "Duplicate of a campaign response",
    }
    assert included_event.action == "response.included"
    assert included_event.before == excluded_event.after
    assert included_event.after == {"status": "received", "status_reason": None}
    assert (await verify_chain(session)).ok

    stored = await session.scalar(
        select(Response.status).where(Response.id == rid).execution_options(populate_existing=True)
    )
    assert stored == "received"


async def test_a_withdrawn_response_cannot_be_excluded(
    client: httpx.AsyncClient, session: AsyncSession, users: Users, consultation: dict[str, Any]
) -> None:
    analyst = await users.token(Role.analyst, member_of=["mine"])
    receipt = await submit(client, consultation)
    await withdraw(client, receipt)
    url = f"/api/v1/responses/{await response_id(session, receipt)}"
    for action, body in (("exclude", {"reason": "spam"}), ("include", None)):
        refused = await client.post(f"{url}/{action}", json=body, headers=bearer(analyst))
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "response_withdrawn"


async def test_exclusion_needs_a_reason(
    client: httpx.AsyncClient, session: AsyncSession, users: Users, consultation: dict[str, Any]
) -> None:
    analyst = await users.token(Role.analyst, member_of=["mine"])
    rid = await response_id(session, await submit(client, consultation))
    refused = await client.post(
        f"/api/v1/responses/{rid}/exclude", json={"reason": ""}, headers=bearer(analyst)
    )
    assert refused.status_code == 422


def routes(rule: str) -> list[tuple[str, str]]:
    return sorted(key for key, value in ROUTE_ACCESS.items() if value == rule)


@pytest.mark.parametrize(("method", "path"), routes(RESPONSE_ANALYST))
async def test_exclusion_routes_refuse_reviewers_outsiders_and_anonymous(
    client: httpx.AsyncClient,
    session: AsyncSession,
    users: Users,
    consultation: dict[str, Any],
    method: str,
    path: str,
) -> None:
    rid = await response_id(session, await submit(client, consultation))
    url = path.replace("{response_id}", str(rid))
    body = {"reason": "off topic"}
    assert (await client.request(method, url, json=body)).status_code == 401
    reviewer = await users.token(Role.reviewer, member_of=["mine"])
    outsider = await users.token(Role.analyst, member_of=["theirs"])
    for token in (reviewer, outsider):
        refused = await client.request(method, url, json=body, headers=bearer(token))
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    missing = path.replace("{response_id}", str(uuid.uuid4()))
    admin = await users.token(Role.admin)
    assert (
        await client.request(method, missing, json=body, headers=bearer(admin))
    ).status_code == 404


async def test_verify_is_for_admins_only(client: httpx.AsyncClient, users: Users) -> None:
    assert (await client.get("/api/v1/audit/verify")).status_code == 401
    for role in (Role.reviewer, Role.analyst):
        token = await users.token(role)
        refused = await client.get("/api/v1/audit/verify", headers=bearer(token))
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"


@pytest.mark.parametrize(("method", "path"), routes(MEMBER))
async def test_export_is_for_admins_and_members(
    client: httpx.AsyncClient,
    users: Users,
    consultation: dict[str, Any],
    method: str,
    path: str,
) -> None:
    url = f"{path}?consultation=mine"
    assert (await client.request(method, url)).status_code == 401
    bad = await client.request(method, url, headers=bearer("cst_not-a-real-token"))
    assert bad.status_code == 401
    for role in (Role.reviewer, Role.analyst):
        outsider = await users.token(role, member_of=["theirs"])
        refused = await client.request(method, url, headers=bearer(outsider))
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
        member = await users.token(role, member_of=["mine"])
        assert (await client.request(method, url, headers=bearer(member))).status_code == 200
        # Only admins export the whole log.
        whole = await client.request(method, path, headers=bearer(member))
        assert whole.status_code == 403
    admin = await users.token(Role.admin)
    assert (await client.request(method, path, headers=bearer(admin))).status_code == 200
    missing = await client.request(method, f"{path}?consultation=nope", headers=bearer(admin))
    assert missing.status_code == 404


async def test_the_export_reverifies_without_the_app(
    client: httpx.AsyncClient, session: AsyncSession, users: Users, consultation: dict[str, Any]
) -> None:
    await record_some(session, 2)  # events of no consultation we export below
    analyst = await users.token(Role.analyst, member_of=["mine"])
    reviewer = await users.token(Role.reviewer, member_of=["mine"])
    first, second = await submit(client, consultation), await submit(client, consultation)
    await withdraw(client, first)
    excluded = await client.post(
        f"/api/v1/responses/{await response_id(session, second)}/exclude",
        json={"reason": "Not about this consultation"},
        headers=bearer(analyst),
    )
    assert excluded.status_code == 200

    admin = await users.token(Role.admin)
    exported = await client.get("/api/v1/audit/events.jsonl", headers=bearer(admin))
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/jsonl")
    events = reverify(exported.text.splitlines())
    assert len(events) == await event_count(session)
    assert [e["action"] for e in events[-2:]] == ["response.withdrawn", "response.excluded"]

    # One consultation's events: each hash still checks, and nothing else is included.
    mine = await client.get(
        "/api/v1/audit/events.jsonl", params={"consultation": "mine"}, headers=bearer(reviewer)
    )
    assert mine.status_code == 200
    lines = mine.text.splitlines()
    assert len(lines) == 2
    for line in lines:
        event = json.loads(line)
        claimed = event.pop("hash")
        body = json.dumps(event, sort_keys=True, separators=(",", ":")).encode()
        assert hashlib.sha256(body).hexdigest() == claimed
        assert event["consultation_id"] == consultation["id"]


def consult(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DATABASE_URL=database_url)
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_verify_and_export(database_url: str) -> None:
    """`consult audit verify` exits 0 on a sound log and 1 naming a bad event."""
    ok = consult("audit", "verify", database_url=database_url)
    assert ok.returncode == 0, ok.stderr
    assert "verifies" in ok.stdout
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT max(seq), count(*) FROM audit_events").fetchone()
        assert row is not None
        head, count = row[0] or 0, row[1]
        last_hash = (
            conn.execute("SELECT hash FROM audit_events WHERE seq = %s", (head,)).fetchone()
            if head
            else None
        )
        forged_id = uuid.uuid4()
        conn.execute(
            "INSERT INTO audit_events (seq, id, occurred_at, actor_type, actor_label, action,"
            " entity_type, prev_hash, hash) VALUES (%s, %s, now(), 'system', 'forger',"
            " 'forged', 'nothing', %s, %s)",
            (head + 1, forged_id, last_hash[0] if last_hash else "0" * 64, "d" * 64),
        )
        try:
            bad = consult("audit", "verify", database_url=database_url)
            exported = consult("audit", "export", database_url=database_url)
        finally:
            conn.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
            conn.execute("DELETE FROM audit_events WHERE id = %s", (forged_id,))
            conn.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
    assert bad.returncode == 1
    message = " ".join(bad.stderr.split())  # rich wraps long lines
    assert f"seq {head + 1}" in message and str(forged_id) in message
    assert "hash mismatch" in message
    assert exported.returncode == 0, exported.stderr
    lines = exported.stdout.splitlines()
    assert len(lines) == count + 1 and json.loads(lines[-1])["id"] == str(forged_id)
    missing = consult("audit", "export", "--consultation", "nope", database_url=database_url)
    assert missing.returncode == 1 and "nope" in missing.stderr

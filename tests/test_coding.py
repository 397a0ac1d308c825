"""Human coding: supersedes rather than updates, history, validation, access."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.coding.models import Coding
from app.enums import Role, Stance
from app.responses.models import Answer
from tests.conftest import Users, bearer
from tests.factories import create_consultation
from tests.test_auth import ANSWER_ANALYST, CODEFRAME_ANALYST, REVIEWER_MEMBER, ROUTE_ACCESS
from tests.test_codeframes import World, make_world


@pytest.fixture
async def world(client: httpx.AsyncClient, users: Users) -> World:
    return await make_world(client, users)


async def test_recoding_supersedes_and_history_shows_both(
    world: World, session: AsyncSession
) -> None:
    v1 = await world.published()
    answer = await world.answer(session)
    first = await world.code(answer, v1["id"], ["P1-01"], stance="support")
    assert first.status_code == 200, first.text
    assert [c["code"] for c in first.json()["codes"]] == ["P1-01"]
    assert first.json()["stance"]["value"] == "support"
    before = {
        c.id: (c.present, c.source, c.created_at)
        for c in await session.scalars(select(Coding).where(Coding.answer_id == answer))
    }
    assert len(before) == 3  # one decision per theme: present or absent

    # The same coding again writes nothing.
    same = await world.code(answer, v1["id"], ["P1-01"], stance="support")
    assert same.status_code == 200
    assert (
        await session.scalar(
            select(text("count(*)")).select_from(Coding).where(Coding.answer_id == answer)
        )
        == 3
    )

    second = await world.code(answer, v1["id"], ["P1-02"], stance="oppose")
    assert [c["code"] for c in second.json()["codes"]] == ["P1-02"]
    assert second.json()["stance"]["value"] == "oppose"

    rows = list(
        await session.scalars(
            select(Coding)
            .where(Coding.answer_id == answer)
            .execution_options(populate_existing=True)
        )
    )
    assert len(rows) == 5
    for row in rows:
        if row.id in before:  # old decisions are unchanged apart from the current flag
            assert (row.present, row.source, row.created_at) == before[row.id]
    superseded = [r for r in rows if not r.is_current]
    assert len(superseded) == 2
    newer = {r.supersedes_id: r for r in rows if r.supersedes_id}
    assert set(newer) == {r.id for r in superseded}

    history = await world.client.get(f"/api/v1/answers/{answer}/history", headers=world.headers)
    assert history.status_code == 200, history.text
    decisions = history.json()["decisions"]
    codings = [d for d in decisions if d["kind"] == "coding"]
    stances = [d for d in decisions if d["kind"] == "stance"]
    assert len(codings) == 5 and len(stances) == 2
    p101 = [d for d in codings if d["code"] == "P1-01"]
    assert [d["present"] for d in p101] == [True, False]
    assert p101[0]["superseded_by_id"] == p101[1]["id"]
    assert p101[1]["supersedes_id"] == p101[0]["id"] and p101[1]["is_current"]
    assert all(d["source"] == "human" and d["user_name"] for d in decisions)
    assert stances[0]["superseded_by_id"] == stances[1]["id"]
    # Each change (not the repeated one) is in the audit log.
    events = await session.execute(
        text("SELECT before, after FROM audit_events WHERE entity_id = :id ORDER BY seq"),
        {"id": answer},
    )
    assert [(b["themes"], a["themes"], a["stance"]) for b, a in events] == [
        ([], ["P1-01"], "support"),
        (["P1-01"], ["P1-02"], "oppose"),
    ]


async def test_database_refuses_updating_a_decision(world: World, session: AsyncSession) -> None:
    v1 = await world.published()
    answer = await world.answer(session)
    await world.code(answer, v1["id"], ["P1-01"])
    coding_id = await session.scalar(
        select(Coding.id).where(Coding.answer_id == answer, Coding.present)
    )
    with pytest.raises(DBAPIError, match="never updated in place"):
        async with session.begin_nested():
            await session.execute(
                text("UPDATE codings SET present = false WHERE id = :id"), {"id": coding_id}
            )


async def test_invalid_theme_code_is_422(world: World, session: AsyncSession) -> None:
    v1 = await world.published()
    answer = await world.answer(session)
    response = await world.code(answer, v1["id"], ["P1-01", "P9-99"])
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "unknown_theme" and body["fields"][0]["loc"] == ["themes", 1]
    malformed = await world.code(answer, v1["id"], ["not a code!"])
    assert malformed.status_code == 422 and malformed.json()["code"] == "validation_failed"
    history = await world.client.get(f"/api/v1/answers/{answer}/history", headers=world.headers)
    assert history.json()["decisions"] == []


async def test_codeframe_must_be_the_answers_published_one(
    world: World, session: AsyncSession
) -> None:
    v1 = await world.published()
    answer = await world.answer(session)
    other = await world.codeframe({"themes": [{"label": "Heating"}]}, world.other_proposal_id)
    other = await world.publish(other["id"])
    wrong = await world.code(answer, other["id"], [])
    assert wrong.status_code == 422 and wrong.json()["code"] == "codeframe_wrong_proposal"
    draft = await world.codeframe({"based_on": v1["id"]})
    unpublished = await world.code(answer, draft["id"], ["P1-01"])
    assert unpublished.status_code == 409
    assert unpublished.json()["code"] == "codeframe_not_published"
    await world.publish(draft["id"])
    superseded = await world.code(answer, v1["id"], ["P1-01"])
    assert superseded.status_code == 409


async def test_access(world: World, session: AsyncSession) -> None:
    v1 = await world.published()
    answer = await world.answer(session)
    body = {"codeframe_id": v1["id"], "themes": ["P1-01"]}
    url = f"/api/v1/answers/{answer}/codes"
    assert (await world.client.put(url, json=body)).status_code == 401
    reviewer = bearer(await world.users.token(Role.reviewer, member_of=["coding"]))
    refused = await world.client.put(url, json=body, headers=reviewer)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert (await world.client.get(url, headers=reviewer)).status_code == 403
    await create_consultation(world.client, world.admin, "elsewhere")
    outsider = bearer(await world.users.token(Role.analyst, member_of=["elsewhere"]))
    for method in ("PUT", "GET"):
        response = await world.client.request(method, url, json=body, headers=outsider)
        assert response.status_code == 403 and response.json()["code"] == "forbidden"
    history = await world.client.get(f"/api/v1/answers/{answer}/history", headers=outsider)
    assert history.status_code == 403
    missing = await world.client.get(
        "/api/v1/answers/00000000-0000-0000-0000-000000000000/codes", headers=world.headers
    )
    assert missing.status_code == 404
    admin = await world.client.put(url, json=body, headers=bearer(world.admin))
    assert admin.status_code == 200


ROUTE_RULES = {REVIEWER_MEMBER, CODEFRAME_ANALYST, ANSWER_ANALYST}


@pytest.mark.parametrize(
    ("method", "path", "rule"),
    sorted((m, p, r) for (m, p), r in ROUTE_ACCESS.items() if r in ROUTE_RULES),
)
async def test_route_access_rules(
    world: World, session: AsyncSession, method: str, path: str, rule: str
) -> None:
    v1 = await world.published()
    draft = await world.codeframe({"based_on": v1["id"]})
    answer = await world.answer(session)
    url = path.format(
        proposal_id=world.proposal_id, codeframe_id=draft["id"], code="P1-01", answer_id=answer
    )
    body = {"codeframe_id": v1["id"], "themes": [], "label": "A label"}
    assert (await world.client.request(method, url, json=body)).status_code == 401
    await create_consultation(world.client, world.admin, "elsewhere")
    for role in (Role.analyst, Role.reviewer):
        outsider = bearer(await world.users.token(role, member_of=["elsewhere"]))
        response = await world.client.request(method, url, json=body, headers=outsider)
        assert response.status_code == 403 and response.json()["code"] == "forbidden", role
    reviewer = bearer(await world.users.token(Role.reviewer, member_of=["coding"]))
    response = await world.client.request(method, url, json=body, headers=reviewer)
    assert response.status_code == (200 if rule == REVIEWER_MEMBER else 403), response.text
    response = await world.client.request(method, url, json=body, headers=world.headers)
    assert response.is_success, response.text


async def test_model_codings_supersede_runs_but_never_people(
    world: World, session: AsyncSession
) -> None:
    from app.coding.service import (
        ModelCoding,
        ModelStance,
        write_model_codings,
        write_model_stances,
    )

    v1 = await world.published()
    theme = {t["code"]: uuid.UUID(t["id"]) for t in v1["themes"]}
    a1, a2 = [uuid.UUID(await world.answer(session)) for _ in range(2)]
    cf = uuid.UUID(v1["id"])
    run1, run2 = uuid.uuid4(), uuid.uuid4()
    decisions = [
        ModelCoding(a, theme["P1-01"], True, 0.9, {"terms": ["privacy"]}) for a in (a1, a2)
    ]
    assert await write_model_codings(session, codeframe_id=cf, run_id=run1, codings=decisions) == 2
    # Re-running the same run writes nothing new.
    assert await write_model_codings(session, codeframe_id=cf, run_id=run1, codings=decisions) == 0
    # A person codes a2; a later run supersedes run 1 on a1 only.
    assert (await world.code(str(a2), v1["id"], ["P1-02"])).status_code == 200
    later = [ModelCoding(a, theme["P1-01"], False, 0.2) for a in (a1, a2)]
    assert await write_model_codings(session, codeframe_id=cf, run_id=run2, codings=later) == 1
    current = {
        (c.answer_id, c.theme_id): c
        for c in await session.scalars(
            select(Coding).where(Coding.is_current).execution_options(populate_existing=True)
        )
    }
    assert current[(a1, theme["P1-01"])].run_id == run2
    assert current[(a1, theme["P1-01"])].supersedes_id is not None
    assert current[(a2, theme["P1-01"])].source == "human"
    codes = await world.client.get(f"/api/v1/answers/{a1}/codes", headers=world.headers)
    assert codes.json()["codes"] == [] and codes.json()["coded"]

    proposal = uuid.UUID(world.proposal_id)
    response_id = await session.scalar(select(Answer.response_id).where(Answer.id == a1))
    assert response_id is not None
    stance = [ModelStance(response_id, Stance.support, a1, 0.8)]
    assert await write_model_stances(session, proposal_id=proposal, run_id=run1, stances=stance)
    assert not await write_model_stances(session, proposal_id=proposal, run_id=run1, stances=stance)
    codes = await world.client.get(f"/api/v1/answers/{a1}/codes", headers=world.headers)
    assert codes.json()["stance"]["value"] == "support"
    assert codes.json()["stance"]["source"] == "model"

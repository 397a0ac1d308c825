"""Two analysts setting the same response's stance at the same moment, on the real database.

Each codes a different answer of one response (two open-text questions of one proposal) and
sets the proposal's stance in the same request. Both requests must succeed, one after the
other (the later one supersedes the earlier stance), instead of one dying in a deadlock.

Workers see only committed rows, so the setup is committed (unique slug) and deleted after.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.codeframes import service as codeframes
from app.codeframes.schemas import CodeframeCreate
from app.coding import service as coding
from app.coding.schemas import CodesIn
from app.consultations import service as consultations
from app.consultations.schemas import ConsultationCreate
from app.enums import Role
from app.users import service as users_service
from app.users.models import User
from tests.factories import consultation_body


@dataclass
class Shared:
    sessionmaker: async_sessionmaker[AsyncSession]
    users: list[User]
    codeframe_id: uuid.UUID
    proposal_id: uuid.UUID
    response_id: uuid.UUID
    answers: list[uuid.UUID]
    theme: str


@pytest.fixture
async def shared(engine: AsyncEngine) -> AsyncIterator[Shared]:
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    slug = f"stance-{uuid.uuid4().hex[:12]}"
    body = consultation_body(slug)
    second = copy.deepcopy(body["proposals"][0]["questions"][0])
    second.update(number="1b", text="Anything else about this proposal?")
    body["proposals"][0]["questions"].insert(1, second)
    async with sessionmaker() as session:
        users = [
            (
                await users_service.create_user(
                    session, email=f"{slug}-{i}@example.org", role=Role.admin, name=f"A{i}"
                )
            )[0]
            for i in range(2)
        ]
        detail = await consultations.create_consultation(
            session, data=ConsultationCreate.model_validate(body)
        )
        proposal = detail.proposals[0]
        draft = await codeframes.create_codeframe(
            session,
            proposal_id=proposal.id,
            user=users[0],
            data=CodeframeCreate.model_validate(
                {"themes": [{"label": "Privacy"}, {"label": "Cost"}]}
            ),
        )
        await codeframes.publish(session, codeframe_id=draft.id, user=users[0])
        respondent_id, response_id = uuid.uuid4(), uuid.uuid4()
        await session.execute(
            text(
                "INSERT INTO respondents (id, consultation_id, kind, publication_consent, "
                "channel) VALUES (:id, :c, 'individual', 'publish', 'web')"
            ),
            {"id": respondent_id, "c": detail.id},
        )
        await session.execute(
            text(
                "INSERT INTO responses (id, consultation_id, respondent_id, receipt_code, "
                "status, channel) VALUES (:id, :c, :r, :code, 'received', 'web')"
            ),
            {"id": response_id, "c": detail.id, "r": respondent_id, "code": uuid.uuid4().hex[:14]},
        )
        answers = []
        for question in proposal.questions[:2]:
            answers.append(
                await session.scalar(
                    text(
                        "INSERT INTO answers (response_id, question_id, text, redacted_text) "
                        "VALUES (:r, :q, 'Some thoughts.', 'Some thoughts.') RETURNING id"
                    ),
                    {"r": response_id, "q": question.id},
                )
            )
        await session.commit()
    data = Shared(
        sessionmaker, users, draft.id, proposal.id, response_id, answers, draft.themes[0].code
    )
    try:
        yield data
    finally:
        async with sessionmaker() as session:
            await session.execute(text("DELETE FROM consultations WHERE id = :c"), {"c": detail.id})
            await session.execute(
                text("DELETE FROM users WHERE id = ANY(:ids)"), {"ids": [u.id for u in users]}
            )
            await session.commit()


@pytest.mark.parametrize("earlier", [None, "neutral"])
async def test_concurrent_stance_edits_serialise(
    shared: Shared, monkeypatch: pytest.MonkeyPatch, earlier: str | None
) -> None:
    if earlier is not None:  # a current stance both edits supersede
        async with shared.sessionmaker() as session:
            await coding.set_codes(
                session,
                answer_id=shared.answers[0],
                user=shared.users[0],
                data=CodesIn(codeframe_id=shared.codeframe_id, themes=[], stance=earlier),
            )
            await session.commit()
    real_set_stance = coding._set_stance
    reached: dict[int, asyncio.Event] = {0: asyncio.Event(), 1: asyncio.Event()}
    go = asyncio.Event()
    pids: dict[int, int] = {}

    async def paused(session: AsyncSession, **kwargs: Any) -> Any:
        # Both codings are written before either changes the stance: the moment that
        # deadlocked when each held a share lock on the response the other needed.
        await session.flush()
        reached[shared.users.index(kwargs["user"])].set()
        await go.wait()
        return await real_set_stance(session, **kwargs)

    monkeypatch.setattr(coding, "_set_stance", paused)

    async def edit(i: int, stance: str) -> Any:
        async with shared.sessionmaker() as session:
            pids[i] = await session.scalar(text("SELECT pg_backend_pid()"))
            out = await coding.set_codes(
                session,
                answer_id=shared.answers[i],
                user=shared.users[i],
                data=CodesIn(
                    codeframe_id=shared.codeframe_id, themes=[shared.theme], stance=stance
                ),
            )
            await session.commit()
            return out

    async def waiting_on_a_lock(pid: int) -> bool:
        async with shared.sessionmaker() as session:
            return bool(
                await session.scalar(
                    text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :p"),
                    {"p": pid},
                )
            )

    first = asyncio.create_task(edit(0, "support"))
    await reached[0].wait()
    second = asyncio.create_task(edit(1, "oppose"))
    # The second edit gets as far as it can: to the same point, or blocked on a lock.
    while not reached[1].is_set():
        if 1 in pids and await waiting_on_a_lock(pids[1]):
            break
        await asyncio.sleep(0.05)
    go.set()
    results = await asyncio.gather(first, second, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == [], errors
    assert [r.stance.value for r in results] == ["support", "oppose"]

    async with shared.sessionmaker() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT value, is_current, supersedes_id IS NOT NULL FROM stances "
                    "WHERE response_id = :r AND proposal_id = :p ORDER BY created_at, id"
                ),
                {"r": shared.response_id, "p": shared.proposal_id},
            )
        ).all()
    expected = [("support", False, earlier is not None), ("oppose", True, True)]
    if earlier is not None:
        expected.insert(0, (earlier, False, False))
    assert [tuple(r) for r in rows] == expected

"""Challenges: raise, reply, withdraw, accept (the change is applied) or reject; access; counts."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.codeframes.models import Codeframe, Theme
from app.coding.models import Coding
from app.enums import Role
from app.responses.models import Answer, Response
from tests.conftest import Users, bearer
from tests.factories import create_consultation, question_ids
from tests.test_auth import CHALLENGE_ANALYST, CHALLENGE_READER, CHALLENGE_REVIEWER, ROUTE_ACCESS
from tests.test_codeframes import World, make_world

RAW = "Ask me first: write to jo.bloggs@example.com before sharing my records."


@dataclass
class Setup:
    world: World
    codeframe: dict[str, Any]
    answer: str
    reviewer: str
    other_reviewer: str

    @property
    def client(self) -> httpx.AsyncClient:
        return self.world.client

    @property
    def slug(self) -> str:
        return str(self.world.detail["slug"])

    async def raise_(self, token: str | None = None, **body: Any) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/consultations/{self.slug}/challenges",
            json=body,
            headers=bearer(token or self.reviewer),
        )

    async def raise_coding(self, proposed: list[str], **extra: Any) -> dict[str, Any]:
        response = await self.raise_(
            kind="coding",
            answer_id=self.answer,
            theme="P1-01",
            proposed_themes=proposed,
            reason="The answer is about security, not privacy.",
            **extra,
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def post(self, path: str, token: str, body: Any = None) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/challenges/{path}", json=body, headers=bearer(token)
        )

    async def get(self, challenge_id: str, token: str | None = None) -> httpx.Response:
        return await self.client.get(
            f"/api/v1/challenges/{challenge_id}", headers=bearer(token or self.reviewer)
        )


async def answer_with_text(world: World, session: AsyncSession, body: str) -> str:
    ids = question_ids(world.detail)
    created = await world.client.post(
        f"/api/v1/consultations/{world.detail['slug']}/responses",
        json={
            "respondent": {"kind": "individual", "publication_consent": "publish"},
            "answers": [
                {"question_id": ids["1"], "text": body},
                {"question_id": ids["2"], "options": ["Agree"]},
            ],
        },
    )
    assert created.status_code == 201, created.text
    answer_id = await session.scalar(
        select(Answer.id)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.receipt_code == created.json()["receipt_code"])
        .where(Answer.question_id == ids["1"])
    )
    return str(answer_id)


@pytest.fixture
async def setup(client: httpx.AsyncClient, users: Users, session: AsyncSession) -> Setup:
    world = await make_world(client, users)
    codeframe = await world.published()
    answer = await answer_with_text(world, session, RAW)
    coded = await world.code(answer, codeframe["id"], ["P1-01"])
    assert coded.status_code == 200, coded.text
    reviewer = await users.token(Role.reviewer, member_of=["coding"])
    other = await users.token(Role.reviewer, member_of=["coding"])
    return Setup(world, codeframe, answer, reviewer, other)


async def audit_actions(session: AsyncSession, challenge_id: str) -> list[tuple[str, Any, Any]]:
    rows = await session.execute(
        text(
            "SELECT action, before, after FROM audit_events"
            " WHERE entity_type = 'challenge' AND entity_id = :id ORDER BY seq"
        ),
        {"id": challenge_id},
    )
    return [(a, b, c) for a, b, c in rows]


async def current_present(session: AsyncSession, answer: str) -> list[str]:
    rows = await session.scalars(
        select(Theme.code)
        .join(Coding, Coding.theme_id == Theme.id)
        .where(Coding.answer_id == uuid.UUID(answer), Coding.is_current, Coding.present)
        .execution_options(populate_existing=True)
    )
    return sorted(rows)


async def snapshot(session: AsyncSession) -> tuple[Any, ...]:
    """Everything a refused request must leave unchanged."""
    return (
        (await session.execute(text("SELECT * FROM challenges ORDER BY id"))).all(),
        (await session.execute(text("SELECT * FROM challenge_messages ORDER BY id"))).all(),
        await session.scalar(text("SELECT count(*) FROM codings")),
        await session.scalar(text("SELECT count(*) FROM codeframes")),
        await session.scalar(text("SELECT max(seq) FROM audit_events")),
    )


# --------------------------------------------------------------------------------------


async def test_raise_a_coding_challenge_everyone_in_the_consultation_sees_it(
    setup: Setup, session: AsyncSession
) -> None:
    challenge = await setup.raise_coding(["P1-02"])
    assert challenge["status"] == "open" and challenge["kind"] == "coding"
    assert challenge["theme_code"] == "P1-01" and challenge["codeframe_version"] == 1
    assert challenge["proposed"] == {"themes": ["P1-02"]}
    assert challenge["snapshot"]["themes"] == ["P1-01"]
    assert challenge["snapshot"]["decision"]["source"] == "human"
    assert challenge["proposal_title"] == "Tailored public services"
    # Redacted text only: the respondent's email never reaches the reviewer.
    assert "jo.bloggs@example.com" not in str(challenge)
    assert challenge["answer_text"] and "[EMAIL]" in challenge["answer_text"].upper()

    for token in (setup.other_reviewer, setup.world.analyst, setup.world.admin):
        seen = await setup.get(challenge["id"], token)
        assert seen.status_code == 200 and seen.json()["reason"] == challenge["reason"]
        listed = await setup.client.get(
            f"/api/v1/consultations/{setup.slug}/challenges", headers=bearer(token)
        )
        assert [c["id"] for c in listed.json()] == [challenge["id"]]

    events = await audit_actions(session, challenge["id"])
    assert [(a, b) for a, b, _ in events] == [("challenge.raise", None)]
    assert events[0][2]["status"] == "open" and events[0][2]["proposed"] == {"themes": ["P1-02"]}


async def test_analyst_rejects_with_a_reason_and_the_reviewer_replies(
    setup: Setup, session: AsyncSession
) -> None:
    challenge = await setup.raise_coding(["P1-02"])
    cid = challenge["id"]
    analyst = setup.world.analyst

    before = await snapshot(session)
    for body in ({}, {"reason": "   "}):
        refused = await setup.post(f"{cid}/reject", analyst, body)
        assert refused.status_code == 422 and refused.json()["code"] == "reason_required"
        assert refused.json()["fields"][0]["loc"] == ["reason"]
    assert await snapshot(session) == before

    rejected = await setup.post(f"{cid}/reject", analyst, {"reason": "Privacy is the point."})
    assert rejected.status_code == 200, rejected.text
    body = rejected.json()
    assert body["status"] == "rejected" and body["resolution"] == "Privacy is the point."
    assert body["decided_by"]["role"] == "analyst" and body["decided_at"]
    assert await current_present(session, setup.answer) == ["P1-01"]  # nothing applied

    reply = await setup.post(f"{cid}/messages", setup.reviewer, {"body": "Then say so."})
    assert reply.status_code == 201, reply.text
    thread = reply.json()["messages"]
    assert [(m["kind"], m["author"]["role"], m["body"]) for m in thread] == [
        ("rejected", "analyst", "Privacy is the point."),
        ("reply", "reviewer", "Then say so."),
    ]

    # Decided: no further decisions, by anyone.
    before = await snapshot(session)
    for path, token in (("accept", analyst), ("reject", analyst), ("withdraw", setup.reviewer)):
        again = await setup.post(f"{cid}/{path}", token, {"reason": "x"})
        assert again.status_code == 409, (path, again.text)
        assert again.json()["code"] == "challenge_not_open"
    assert await snapshot(session) == before

    events = await audit_actions(session, cid)
    assert [a for a, _, _ in events] == ["challenge.raise", "challenge.reject", "challenge.message"]
    assert events[1][1]["status"] == "open" and events[1][2]["status"] == "rejected"
    assert events[1][2]["resolution"] == "Privacy is the point."


async def test_accepting_a_coding_challenge_records_new_human_codings(
    setup: Setup, session: AsyncSession
) -> None:
    challenge = await setup.raise_coding(["P1-02", "P1-03"])
    old = {
        c.id: (c.present, c.is_current)
        for c in await session.scalars(
            select(Coding).where(Coding.answer_id == uuid.UUID(setup.answer))
        )
    }
    accepted = await setup.post(
        f"{challenge['id']}/accept", setup.world.analyst, {"resolution": "Agreed, recoded."}
    )
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["status"] == "accepted" and body["resolution"] == "Agreed, recoded."
    applied = body["applied"]
    assert applied["themes"] == ["P1-02", "P1-03"] and applied["themes_before"] == ["P1-01"]
    assert applied["codeframe_version"] == 1
    assert await current_present(session, setup.answer) == ["P1-02", "P1-03"]

    # The codings it wrote are new rows that supersede the old ones, linked from the challenge.
    rows = {
        c.id: c
        for c in await session.scalars(
            select(Coding)
            .where(Coding.answer_id == uuid.UUID(setup.answer))
            .execution_options(populate_existing=True)
        )
    }
    created = {uuid.UUID(i) for i in applied["coding_ids"]}
    assert created == set(rows) - set(old) and len(created) == 3
    assert all(rows[i].is_current and rows[i].source.value == "human" for i in created)
    assert all(rows[i].evidence == {"challenge_id": challenge["id"]} for i in created)
    assert {rows[i].supersedes_id for i in created} == set(old)
    assert all(rows[i].present == old[i][0] for i in old)  # old decisions kept as they were

    events = await audit_actions(session, challenge["id"])
    assert [a for a, _, _ in events] == ["challenge.raise", "challenge.accept"]
    assert events[1][1]["status"] == "open"
    assert events[1][2]["status"] == "accepted"
    assert sorted(events[1][2]["applied"]["coding_ids"]) == sorted(applied["coding_ids"])
    coding_events = await session.scalar(
        text("SELECT count(*) FROM audit_events WHERE action = 'coding.set' AND entity_id = :a"),
        {"a": setup.answer},
    )
    assert coding_events == 2  # the analyst's first coding and the accepted challenge


async def test_analyst_may_accept_with_their_own_set_of_themes(
    setup: Setup, session: AsyncSession
) -> None:
    challenge = await setup.raise_coding(["P1-02", "P1-03"])
    accepted = await setup.post(
        f"{challenge['id']}/accept", setup.world.analyst, {"themes": ["P1-01", "P1-02"]}
    )
    assert accepted.status_code == 200, accepted.text
    assert await current_present(session, setup.answer) == ["P1-01", "P1-02"]
    assert accepted.json()["messages"][0]["body"] == "Accepted."


async def test_withdraw_only_by_the_reviewer_who_raised_it_then_accept_is_409(
    setup: Setup, session: AsyncSession
) -> None:
    challenge = await setup.raise_coding(["P1-02"])
    cid = challenge["id"]
    before = await snapshot(session)
    for token in (setup.other_reviewer, setup.world.analyst):
        refused = await setup.post(f"{cid}/withdraw", token, {})
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    # A reviewer cannot decide.
    for path in ("accept", "reject"):
        refused = await setup.post(f"{cid}/{path}", setup.reviewer, {"reason": "mine"})
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert await snapshot(session) == before

    withdrawn = await setup.post(f"{cid}/withdraw", setup.reviewer, {"note": "I misread it."})
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["messages"][-1]["kind"] == "withdrawn"

    before = await snapshot(session)
    accept = await setup.post(f"{cid}/accept", setup.world.analyst, {})
    assert accept.status_code == 409 and accept.json()["code"] == "challenge_not_open"
    assert "withdrawn" in accept.json()["message"]
    assert await snapshot(session) == before
    assert await current_present(session, setup.answer) == ["P1-01"]


async def test_accepting_a_theme_challenge_makes_a_draft_version(
    setup: Setup, session: AsyncSession
) -> None:
    v1 = setup.codeframe
    raised = await setup.raise_(
        kind="theme",
        codeframe_id=v1["id"],
        theme="P1-02",
        proposed_label="Security of data",
        proposed_description="Breaches, hacking and leaks of shared data.",
        reason="The label is too vague.",
    )
    assert raised.status_code == 201, raised.text
    first = raised.json()
    assert first["snapshot"]["label"] == "Security"
    accepted = await setup.post(f"{first['id']}/accept", setup.world.analyst, {})
    assert accepted.status_code == 200, accepted.text
    applied = accepted.json()["applied"]
    assert applied["codeframe_version"] == 2 and applied["new_draft"] is True
    draft = await session.get(Codeframe, uuid.UUID(applied["codeframe_id"]))
    assert draft is not None and draft.status.value == "draft"
    assert str(draft.based_on_id) == v1["id"]
    themes = {
        t.code: t
        for t in await session.scalars(
            select(Theme)
            .where(Theme.codeframe_id.in_([draft.id, uuid.UUID(v1["id"])]))
            .execution_options(populate_existing=True)
        )
        if t.codeframe_id == draft.id
    }
    assert themes["P1-02"].label == "Security of data"
    assert themes["P1-02"].description == "Breaches, hacking and leaks of shared data."
    published = await session.scalar(
        select(Theme.label).where(Theme.codeframe_id == uuid.UUID(v1["id"]), Theme.code == "P1-02")
    )
    assert published == "Security"  # the published version never changes

    # A second accepted theme challenge amends the same draft.
    second = await setup.raise_(
        kind="theme",
        codeframe_id=v1["id"],
        theme="P1-03",
        proposed_description="Services that work better because data is shared.",
        reason="No description at all.",
    )
    accepted2 = await setup.post(f"{second.json()['id']}/accept", setup.world.analyst, {})
    assert accepted2.status_code == 200, accepted2.text
    assert accepted2.json()["applied"]["codeframe_id"] == applied["codeframe_id"]
    assert accepted2.json()["applied"]["new_draft"] is False
    events = await audit_actions(session, first["id"])
    assert events[-1][2]["applied"]["codeframe_id"] == applied["codeframe_id"]


async def test_figure_challenges_and_counts_by_status_and_proposal(
    setup: Setup, session: AsyncSession
) -> None:
    proposal_id = setup.world.proposal_id
    other_proposal = setup.world.other_proposal_id
    figure = await setup.raise_(
        kind="figure",
        proposal_id=other_proposal,
        figure="Share of respondents who support",
        proposed_text="Say 41%, not 'most'.",
        reason="Counts are not votes.",
    )
    assert figure.status_code == 201, figure.text
    whole = await setup.raise_(
        kind="figure", figure="Number of responses", reason="Campaign letters counted twice."
    )
    assert whole.status_code == 201 and whole.json()["proposal_id"] is None
    coding1 = await setup.raise_coding(["P1-02"])
    coding2 = await setup.raise_coding(["P1-03"])
    coding3 = await setup.raise_coding([])
    await setup.post(f"{coding1['id']}/reject", setup.world.analyst, {"reason": "No."})
    no_body = await setup.post(f"{coding2['id']}/withdraw", setup.reviewer)
    assert no_body.status_code == 200, no_body.text
    accepted = await setup.post(
        f"{figure.json()['id']}/accept", setup.world.analyst, {"resolution": "Report reworded."}
    )
    assert accepted.status_code == 200 and accepted.json()["applied"] == {}

    summary = await setup.client.get(
        f"/api/v1/consultations/{setup.slug}/challenges/summary", headers=bearer(setup.reviewer)
    )
    assert summary.status_code == 200, summary.text
    s = summary.json()
    assert s["counts"] == {"open": 2, "accepted": 1, "rejected": 1, "withdrawn": 1, "total": 5}
    assert s["by_kind"]["coding"] == {
        "open": 1,
        "accepted": 0,
        "rejected": 1,
        "withdrawn": 1,
        "total": 3,
    }
    by_proposal = {p["proposal_id"]: p["counts"] for p in s["proposals"]}
    assert by_proposal[proposal_id]["total"] == 3
    assert by_proposal[other_proposal] == {
        "open": 0,
        "accepted": 1,
        "rejected": 0,
        "withdrawn": 0,
        "total": 1,
    }
    assert by_proposal[None]["open"] == 1

    url = f"/api/v1/consultations/{setup.slug}/challenges"
    for status, expected in (
        ("open", {coding3["id"], whole.json()["id"]}),
        ("rejected", {coding1["id"]}),
        ("withdrawn", {coding2["id"]}),
    ):
        listed = await setup.client.get(
            url, params={"status": status}, headers=bearer(setup.world.analyst)
        )
        assert {c["id"] for c in listed.json()} == expected
    bad = await setup.client.get(url, params={"status": "maybe"}, headers=bearer(setup.reviewer))
    assert bad.status_code == 422
    by_prop = await setup.client.get(
        url, params={"proposal_id": other_proposal}, headers=bearer(setup.reviewer)
    )
    assert [c["id"] for c in by_prop.json()] == [figure.json()["id"]]


async def test_invalid_challenges_are_refused_and_change_nothing(
    setup: Setup, session: AsyncSession, users: Users
) -> None:
    before = await snapshot(session)
    cases: list[tuple[dict[str, Any], int, str]] = [
        (
            {"kind": "coding", "answer_id": setup.answer, "theme": "P9-99",
             "proposed_themes": [], "reason": "r"},
            422, "unknown_theme",
        ),
        (
            {"kind": "coding", "answer_id": setup.answer, "theme": "P1-01",
             "proposed_themes": ["P1-01", "P7-77"], "reason": "r"},
            422, "unknown_theme",
        ),
        (
            {"kind": "coding", "answer_id": setup.answer, "theme": "P1-01",
             "proposed_themes": ["P1-01"], "reason": "r"},
            422, "nothing_proposed",
        ),
        (
            {"kind": "coding", "answer_id": setup.answer, "theme": "P1-01",
             "proposed_themes": [], "reason": "  "},
            422, "reason_required",
        ),
        (
            {"kind": "coding", "answer_id": str(uuid.uuid4()), "theme": "P1-01",
             "proposed_themes": [], "reason": "r"},
            404, "not_found",
        ),
        (
            {"kind": "theme", "codeframe_id": setup.codeframe["id"], "theme": "P1-01",
             "proposed_label": "Privacy", "reason": "r"},
            422, "nothing_proposed",
        ),
        ({"kind": "figure", "figure": "", "reason": "r"}, 422, "validation_failed"),
        (
            {"kind": "figure", "figure": "x", "proposal_id": str(uuid.uuid4()), "reason": "r"},
            422, "validation_failed",
        ),
        ({"kind": "opinion", "reason": "r"}, 422, "validation_failed"),
    ]  # fmt: skip
    for body, status, code in cases:
        response = await setup.raise_(**body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["code"] == code, (body, response.text)
    # An analyst cannot raise one.
    by_analyst = await setup.raise_(
        setup.world.analyst,
        kind="figure",
        figure="x",
        reason="r",
    )
    assert by_analyst.status_code == 403 and by_analyst.json()["code"] == "forbidden"
    empty = await setup.post(f"{uuid.uuid4()}/messages", setup.reviewer, {"body": "hi"})
    assert empty.status_code == 404
    assert await snapshot(session) == before


async def test_other_consultations_challenges_and_answers_are_out_of_reach(
    setup: Setup, session: AsyncSession, users: Users
) -> None:
    challenge = await setup.raise_coding(["P1-02"])
    elsewhere = await create_consultation(setup.client, setup.world.admin, "elsewhere")
    assert elsewhere["slug"] == "elsewhere"
    outsider_reviewer = await users.token(Role.reviewer, member_of=["elsewhere"])
    outsider_analyst = await users.token(Role.analyst, member_of=["elsewhere"])
    before = await snapshot(session)
    for token in (outsider_reviewer, outsider_analyst):
        assert (await setup.get(challenge["id"], token)).status_code == 403
        for path in ("messages", "accept", "reject", "withdraw"):
            response = await setup.post(
                f"{challenge['id']}/{path}", token, {"body": "x", "reason": "x"}
            )
            assert response.status_code == 403, (path, response.text)
        listed = await setup.client.get(
            f"/api/v1/consultations/{setup.slug}/challenges", headers=bearer(token)
        )
        assert listed.status_code == 403
    # A member of "elsewhere" cannot challenge an answer of "coding" through their own slug.
    sneaky = await setup.client.post(
        "/api/v1/consultations/elsewhere/challenges",
        json={
            "kind": "coding",
            "answer_id": setup.answer,
            "theme": "P1-01",
            "proposed_themes": [],
            "reason": "r",
        },
        headers=bearer(outsider_reviewer),
    )
    assert sneaky.status_code == 404
    assert await snapshot(session) == before


async def test_database_refuses_changing_a_decided_challenge(
    setup: Setup, session: AsyncSession
) -> None:
    challenge = await setup.raise_coding(["P1-02"])
    # An open one may still change (that is how it gets decided).
    await setup.post(f"{challenge['id']}/reject", setup.world.analyst, {"reason": "No."})
    with pytest.raises(DBAPIError, match="decided challenge never changes"):
        async with session.begin_nested():
            await session.execute(
                text("UPDATE challenges SET status = 'accepted' WHERE id = :id"),
                {"id": challenge["id"]},
            )
    with pytest.raises(DBAPIError, match="never edited"):
        async with session.begin_nested():
            await session.execute(
                text("UPDATE challenge_messages SET body = 'Yes.' WHERE challenge_id = :id"),
                {"id": challenge["id"]},
            )


ROUTE_RULES = {CHALLENGE_READER, CHALLENGE_REVIEWER, CHALLENGE_ANALYST}


@pytest.mark.parametrize(
    ("method", "path", "rule"),
    sorted((m, p, r) for (m, p), r in ROUTE_ACCESS.items() if r in ROUTE_RULES),
)
async def test_route_access_rules(
    setup: Setup, users: Users, method: str, path: str, rule: str
) -> None:
    challenge = await setup.raise_coding(["P1-02"])
    url = path.format(slug=setup.slug, challenge_id=challenge["id"])
    # A body every route accepts, so access (not validation) decides.
    body = {"kind": "figure", "figure": "A figure", "reason": "x", "body": "x"}
    assert (await setup.client.request(method, url, json=body)).status_code == 401
    await create_consultation(setup.client, setup.world.admin, "elsewhere")
    for role in (Role.analyst, Role.reviewer):
        outsider = bearer(await users.token(role, member_of=["elsewhere"]))
        response = await setup.client.request(method, url, json=body, headers=outsider)
        assert response.status_code == 403, (role, response.text)
    member = {
        Role.analyst: bearer(setup.world.analyst),
        Role.reviewer: bearer(setup.reviewer),
    }
    allowed = {
        CHALLENGE_READER: {Role.analyst, Role.reviewer},
        CHALLENGE_REVIEWER: {Role.reviewer},
        CHALLENGE_ANALYST: {Role.analyst},
    }[rule]
    for role, headers in member.items():
        response = await setup.client.request(method, url, json=body, headers=headers)
        if role in allowed:
            assert response.status_code != 403, (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            assert response.json()["code"] == "forbidden"


# --------------------------------------------------------------------------------------
# Pages (read through a bearer token here; the forms are driven in tests/browser)
# --------------------------------------------------------------------------------------


async def test_pages_show_counts_threads_and_redacted_text_only(setup: Setup) -> None:
    challenge = await setup.raise_coding(["P1-02"])
    await setup.raise_(kind="figure", figure="Number of responses", reason="Too high.")
    await setup.post(f"{challenge['id']}/reject", setup.world.analyst, {"reason": "Privacy."})
    html = {"accept": "text/html"}

    listing = await setup.client.get(
        "/audit/challenges", headers=bearer(setup.other_reviewer) | html
    )
    assert listing.status_code == 200, listing.text
    assert "All (2)" in listing.text and "Open (1)" in listing.text
    assert "Rejected (1)" in listing.text and "Withdrawn (0)" in listing.text
    rejected_only = await setup.client.get(
        f"/audit/challenges?consultation={setup.slug}&status=rejected",
        headers=bearer(setup.reviewer) | html,
    )
    assert f"/audit/challenges/{challenge['id']}" in rejected_only.text
    assert "Number of responses" not in rejected_only.text

    thread = await setup.client.get(
        f"/audit/challenges/{challenge['id']}", headers=bearer(setup.reviewer) | html
    )
    assert thread.status_code == 200
    assert "jo.bloggs@example.com" not in thread.text and "Privacy." in thread.text
    assert 'action="/audit/challenges/' in thread.text and "/reply" in thread.text
    assert "/accept" not in thread.text  # decided, and a reviewer never decides

    form = await setup.client.get(
        f"/audit/challenges/new?answer_id={setup.answer}&theme=P1-01",
        headers=bearer(setup.reviewer) | html,
    )
    assert form.status_code == 200 and "Challenge this coding" in form.text
    assert "jo.bloggs@example.com" not in form.text and "[EMAIL]" in form.text.upper()
    by_analyst = await setup.client.get(
        f"/audit/challenges/new?answer_id={setup.answer}",
        headers=bearer(setup.world.analyst) | html,
    )
    assert by_analyst.status_code == 403

    signed_out = await setup.client.get("/audit/challenges", headers=html)
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/login?next=")


async def test_demo_challenges_cover_every_state_once(setup: Setup, session: AsyncSession) -> None:
    from app.consultations.service import add_member
    from app.demo.challenges import load_demo_challenges
    from app.users.service import create_user

    for n in range(4):
        await answer_with_text(
            setup.world, session, f"Answer number {n}: data sharing needs my consent first."
        )
    tokens = []
    for email, role in (("a@demo.test", Role.analyst), ("r@demo.test", Role.reviewer)):
        _, token = await create_user(session, email=email, role=role, name=email)
        await add_member(session, slug=setup.slug, email=email)
        tokens.append(token)
    line = await load_demo_challenges(
        session, slug=setup.slug, analyst_email="a@demo.test", reviewer_email="r@demo.test"
    )
    assert "8 challenges" in line, line
    rows = (
        await session.execute(text("SELECT kind, status, count(*) FROM challenges GROUP BY 1, 2"))
    ).all()
    counts = {(k, s): n for k, s, n in rows}
    assert counts == {
        ("coding", "open"): 1,
        ("coding", "accepted"): 1,
        ("coding", "rejected"): 1,
        ("coding", "withdrawn"): 1,
        ("theme", "open"): 1,
        ("theme", "rejected"): 1,
        ("figure", "open"): 1,
        ("figure", "accepted"): 1,
    }
    # The accepted coding challenge recoded its answer as proposed.
    accepted = (
        await session.execute(
            text(
                "SELECT answer_id, proposed FROM challenges"
                " WHERE kind = 'coding' AND status = 'accepted'"
            )
        )
    ).one()
    assert await current_present(session, str(accepted[0])) == accepted[1]["themes"]
    assert await session.scalar(text("SELECT count(*) FROM codeframes WHERE status = 'draft'")) == 0
    # Every thread page renders, for both sides, whatever its kind and state.
    await session.commit()
    ids = [str(i) for i in await session.scalars(text("SELECT id FROM challenges"))]
    for token in tokens:
        for cid in ids:
            page = await setup.client.get(
                f"/audit/challenges/{cid}", headers=bearer(token) | {"accept": "text/html"}
            )
            assert page.status_code == 200, page.text
            assert "Challenge to the" in page.text
    again = await load_demo_challenges(
        session, slug=setup.slug, analyst_email="a@demo.test", reviewer_email="r@demo.test"
    )
    assert again.endswith("already loaded")


async def test_a_sampled_answer_is_challenged_only_after_the_blind_review(
    setup: Setup, session: AsyncSession
) -> None:
    drawn = await setup.client.post(
        f"/api/v1/proposals/{setup.world.proposal_id}/audit-samples",
        json={"size": 1, "seed": 7},
        headers=bearer(setup.reviewer),
    )
    assert drawn.status_code == 201, drawn.text
    sample_id = drawn.json()["id"]
    items = await setup.client.get(
        f"/api/v1/audit-samples/{sample_id}/items", headers=bearer(setup.reviewer)
    )
    (item,) = items.json()
    sampled = await session.scalar(
        text("SELECT answer_id FROM audit_sample_items WHERE id = :id"), {"id": item["id"]}
    )
    assert str(sampled) == setup.answer
    before = await snapshot(session)
    early = await setup.raise_(
        kind="coding",
        answer_id=setup.answer,
        theme="P1-01",
        proposed_themes=["P1-02"],
        reason="r",
    )
    assert early.status_code == 409 and early.json()["code"] == "review_first"
    form = await setup.client.get(
        f"/audit/challenges/new?answer_id={setup.answer}",
        headers=bearer(setup.reviewer) | {"accept": "text/html"},
    )
    assert form.status_code == 409 and "P1-01" not in form.text
    assert await snapshot(session) == before

    reviewed = await setup.client.put(
        f"/api/v1/audit-samples/{sample_id}/items/{item['id']}/review",
        json={"themes": ["P1-02"]},
        headers=bearer(setup.reviewer),
    )
    assert reviewed.status_code == 200, reviewed.text
    await setup.raise_coding(["P1-02"])
    # Another reviewer who has not reviewed it yet is still held back.
    other = await setup.raise_(
        setup.other_reviewer,
        kind="coding",
        answer_id=setup.answer,
        theme="P1-01",
        proposed_themes=["P1-03"],
        reason="r",
    )
    assert other.status_code == 409 and other.json()["code"] == "review_first"


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


async def test_theme_and_figure_forms_raise_and_the_analyst_forms_decide(
    setup: Setup, session: AsyncSession
) -> None:
    html = {"accept": "text/html"}
    reviewer = bearer(setup.reviewer) | html
    analyst = bearer(setup.world.analyst) | html
    v1 = setup.codeframe["id"]

    # Theme: from the list's link, choose the theme, then raise; an empty reason shows the
    # form again with the error.
    listing = await setup.client.get("/audit/challenges", headers=reviewer)
    link = f"/audit/challenges/new?kind=theme&amp;codeframe_id={v1}"
    assert link in listing.text
    chooser = await setup.client.get(link.replace("&amp;", "&"), headers=reviewer)
    assert chooser.status_code == 200 and "Continue" in chooser.text
    assert 'method="post"' not in chooser.text.split("<main", 1)[1]
    form = await setup.client.get(
        f"/audit/challenges/new?kind=theme&codeframe_id={v1}&theme=P1-02", headers=reviewer
    )
    assert form.status_code == 200 and 'value="Security"' in form.text
    fields = {
        "csrf_token": csrf_of(form.text),
        "kind": "theme",
        "consultation": setup.slug,
        "codeframe_id": v1,
        "theme": "P1-02",
        "proposed_label": "Security of data",
        "proposed_description": "",
        "reason": "",
    }
    before = await snapshot(session)
    refused = await setup.client.post("/audit/challenges/new", data=fields, headers=reviewer)
    assert refused.status_code == 422 and "govuk-error-summary" in refused.text
    assert 'href="#reason"' in refused.text and 'value="Security of data"' in refused.text
    assert await snapshot(session) == before
    fields["reason"] = "Too vague."
    raised = await setup.client.post("/audit/challenges/new", data=fields, headers=reviewer)
    assert raised.status_code == 303, raised.text
    theme_url = raised.headers["location"].split("?")[0]

    # Figure, prefilled from the link a report can give.
    form = await setup.client.get(
        f"/audit/challenges/new?kind=figure&consultation={setup.slug}"
        f"&proposal_id={setup.world.proposal_id}&figure=Share+who+support",
        headers=reviewer,
    )
    assert 'value="Share who support"' in form.text
    raised = await setup.client.post(
        "/audit/challenges/new",
        data={
            "csrf_token": csrf_of(form.text),
            "kind": "figure",
            "consultation": setup.slug,
            "proposal_id": setup.world.proposal_id,
            "figure": "Share who support",
            "theme": "",
            "proposed_text": "Give the base.",
            "reason": "Counts are not votes.",
        },
        headers=reviewer,
    )
    assert raised.status_code == 303, raised.text
    figure_url = raised.headers["location"].split("?")[0]

    # The analyst rejects the figure without a reason (shown again), then accepts the theme
    # with their own label.
    page = await setup.client.get(figure_url, headers=analyst)
    token = csrf_of(page.text)
    before = await snapshot(session)
    refused = await setup.client.post(
        f"{figure_url}/reject", data={"csrf_token": token, "reason": " "}, headers=analyst
    )
    assert refused.status_code == 422 and 'href="#reason"' in refused.text
    assert await snapshot(session) == before
    page = await setup.client.get(theme_url, headers=analyst)
    accepted = await setup.client.post(
        f"{theme_url}/accept",
        data={
            "csrf_token": csrf_of(page.text),
            "label": "Data security",
            "description": "Breaches and leaks.",
            "resolution": "Relabelled.",
        },
        headers=analyst,
    )
    assert accepted.status_code == 303, accepted.text
    detail = await setup.get(theme_url.rsplit("/", 1)[1])
    assert detail.json()["status"] == "accepted"
    assert detail.json()["applied"]["label"] == "Data security"
    shown = await setup.client.get(theme_url, headers=reviewer)
    assert "version 2 (now draft)" in shown.text

    # Without the CSRF token nothing happens.
    forged = await setup.client.post(
        f"{figure_url}/reject", data={"reason": "Forged."}, headers=analyst
    )
    assert forged.status_code == 403
    assert (await setup.get(figure_url.rsplit("/", 1)[1])).json()["status"] == "open"


async def test_a_failed_accept_changes_nothing(setup: Setup, session: AsyncSession) -> None:
    challenge = await setup.raise_coding(["P1-02"])
    before = await snapshot(session)
    bad = await setup.post(f"{challenge['id']}/accept", setup.world.analyst, {"themes": ["P9-01"]})
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_theme"
    assert await snapshot(session) == before

    # A theme challenge cannot go into a draft that is not based on the published version.
    theme = await setup.raise_(
        kind="theme",
        codeframe_id=setup.codeframe["id"],
        theme="P1-02",
        proposed_label="Security of data",
        reason="Vague.",
    )
    await setup.world.codeframe({"themes": [{"code": "X-01", "label": "Fresh start"}]})
    before = await snapshot(session)
    blocked = await setup.post(f"{theme.json()['id']}/accept", setup.world.analyst, {})
    assert blocked.status_code == 409 and blocked.json()["code"] == "challenge_cannot_apply"
    assert await snapshot(session) == before

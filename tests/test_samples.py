"""Audit samples: reproducible draws, designs, blind review, comparison, access."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from analysis.sampling import sample_size_for_margin, simple_random_sample
from app.coding.service import ModelCoding, write_model_codings
from app.enums import Role
from app.responses.models import Answer, Response
from app.samples.models import AuditSample, Review, SampleItem
from app.samples.service import population_hash
from tests.conftest import Users, bearer
from tests.factories import create_consultation, question_ids
from tests.test_auth import ROUTE_ACCESS, SAMPLE_MEMBER
from tests.test_codeframes import THEMES, World, make_world

SLUG = "coding"  # make_world's consultation


def raw_text(i: int) -> str:
    return f"Answer {i}: write to resp{i}@example.com about privacy and security."


@dataclass
class AuditWorld:
    world: World
    codeframe: dict[str, Any]
    answers: list[str]  # answer ids in creation order
    kinds: dict[str, str]  # answer id -> respondent kind
    present: dict[str, set[str]]  # answer id -> current codes
    reviewers: list[str] = field(default_factory=list)

    @property
    def client(self) -> httpx.AsyncClient:
        return self.world.client

    @property
    def proposal_id(self) -> str:
        return self.world.proposal_id

    async def reviewer(self) -> dict[str, str]:
        token = await self.world.users.token(Role.reviewer, member_of=[SLUG])
        self.reviewers.append(token)
        return bearer(token)

    async def draw(self, headers: dict[str, str] | None = None, **body: Any) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/proposals/{self.proposal_id}/audit-samples",
            json=body,
            headers=headers or self.world.headers,
        )


def pattern(i: int) -> dict[str, tuple[bool, float]]:
    """Deterministic model decisions for answer i: code -> (present, confidence)."""
    return {
        "P1-01": (i % 2 == 0, 0.95 if i % 2 == 0 else 0.08),
        "P1-02": (i % 3 == 0, 0.75 if i % 3 == 0 else 0.35),
        "P1-03": (i % 5 == 0, 0.6 if i % 5 == 0 else 0.02),
    }


async def make_audit_world(
    client: httpx.AsyncClient, users: Users, session: AsyncSession, n: int = 30
) -> AuditWorld:
    world = await make_world(client, users)
    v1 = await world.published(THEMES)
    ids = question_ids(world.detail)
    answers: list[str] = []
    kinds: dict[str, str] = {}
    for i in range(n):
        kind = "organisation" if i % 3 == 0 else "individual"
        respondent: dict[str, Any] = {
            "kind": kind,
            "publication_consent": "publish",
            "name": f"Resp Person{i}",
            "email": f"contact{i}@example.org",
        }
        if kind == "organisation":
            respondent["organisation_name"] = f"Org {i}"
        created = await client.post(
            f"/api/v1/consultations/{SLUG}/responses",
            json={
                "respondent": respondent,
                "answers": [
                    {"question_id": ids["1"], "text": raw_text(i)},
                    {"question_id": ids["2"], "options": ["Agree"]},
                ],
            },
        )
        assert created.status_code == 201, created.text
        answer_id = await session.scalar(
            select(Answer.id)
            .join(Response, Response.id == Answer.response_id)
            .where(
                Response.receipt_code == created.json()["receipt_code"],
                Answer.question_id == ids["1"],
            )
        )
        answers.append(str(answer_id))
        kinds[str(answer_id)] = kind
    theme = {t["code"]: uuid.UUID(t["id"]) for t in v1["themes"]}
    decisions = [
        ModelCoding(uuid.UUID(a), theme[code], present, confidence)
        for i, a in enumerate(answers)
        for code, (present, confidence) in pattern(i).items()
    ]
    await write_model_codings(
        session, codeframe_id=uuid.UUID(v1["id"]), run_id=uuid.uuid4(), codings=decisions
    )
    await session.commit()
    present = {a: {code for code, (p, _) in pattern(i).items() if p} for i, a in enumerate(answers)}
    return AuditWorld(world, v1, answers, kinds, present)


@pytest.fixture
async def aw(client: httpx.AsyncClient, users: Users, session: AsyncSession) -> AuditWorld:
    return await make_audit_world(client, users, session)


async def drawn_answers(session: AsyncSession, sample_id: str) -> list[str]:
    rows = await session.scalars(
        select(SampleItem.answer_id)
        .where(SampleItem.sample_id == uuid.UUID(sample_id))
        .order_by(SampleItem.position)
    )
    return [str(a) for a in rows]


async def sample_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(AuditSample)) or 0)


# --------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------


async def test_same_seed_and_data_give_the_same_items(
    aw: AuditWorld, session: AsyncSession
) -> None:
    first = await aw.draw(size=10, seed=42)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["design"] == "simple" and body["size"] == 10 and body["seed"] == 42
    assert body["population"] == 30 and body["codeframe_version"] == 1
    assert body["progress"] == {
        "items": 10,
        "reviewed_items": 0,
        "reviews": 0,
        "reviewers": 0,
        "mine": 0,
    }
    second = await aw.draw(size=10, seed=42)
    one = await drawn_answers(session, body["id"])
    assert one == await drawn_answers(session, second.json()["id"])
    assert len(set(one)) == 10 and set(one) <= set(aw.answers)
    assert second.json()["population_hash"] == body["population_hash"]
    # Anyone with the seed and the population (the coded answers) redraws the same sample.
    assert one == simple_random_sample(aw.answers, 10, 42)
    assert body["population_hash"] == population_hash([(a, "all") for a in aw.answers])
    other = await aw.draw(size=10, seed=43)
    assert await drawn_answers(session, other.json()["id"]) != one
    # Without a seed a random one is chosen and stored.
    unseeded = await aw.draw(size=5)
    assert unseeded.status_code == 201 and isinstance(unseeded.json()["seed"], int)
    listed = await aw.client.get(
        f"/api/v1/proposals/{aw.proposal_id}/audit-samples", headers=aw.world.headers
    )
    assert listed.status_code == 200 and len(listed.json()) == 4
    # The draw is in the audit log with its design and seed.
    events = list(
        await session.execute(
            text("SELECT action, after FROM audit_events WHERE entity_id = :id"),
            {"id": body["id"]},
        )
    )
    assert [e[0] for e in events] == ["sample.draw"]
    after = events[0][1]
    assert after["seed"] == 42 and after["size"] == 10 and after["design"] == "simple"
    assert after["population_hash"] == body["population_hash"]


async def test_size_from_a_target_margin(aw: AuditWorld) -> None:
    size = await aw.client.get(
        f"/api/v1/proposals/{aw.proposal_id}/audit-samples/size",
        params={"margin": 0.1, "confidence": 0.9, "expected_rate": 0.2},
        headers=aw.world.headers,
    )
    assert size.status_code == 200, size.text
    expected = sample_size_for_margin(0.1, 0.9, 0.2, population=30)
    assert size.json()["size"] == expected and size.json()["population"] == 30
    drawn = await aw.draw(margin=0.1, confidence=0.9, expected_rate=0.2, seed=1)
    assert drawn.status_code == 201, drawn.text
    assert drawn.json()["size"] == expected
    assert drawn.json()["target_margin"] == 0.1 and drawn.json()["requested_size"] is None
    bad = await aw.client.get(
        f"/api/v1/proposals/{aw.proposal_id}/audit-samples/size",
        params={"margin": 2},
        headers=aw.world.headers,
    )
    assert bad.status_code == 422 and bad.json()["code"] == "validation_failed"


async def test_stratified_by_respondent_kind(aw: AuditWorld, session: AsyncSession) -> None:
    drawn = await aw.draw(design="stratified", stratify_by="respondent_kind", size=9, seed=7)
    assert drawn.status_code == 201, drawn.text
    body = drawn.json()
    assert body["population_sizes"] == {"individual": 20, "organisation": 10}
    assert body["sample_sizes"] == {"individual": 6, "organisation": 3}
    assert body["min_per_stratum"] == 1 and body["allocation"] == "proportional"
    rows = list(
        await session.execute(
            select(SampleItem.answer_id, SampleItem.stratum)
            .where(SampleItem.sample_id == uuid.UUID(body["id"]))
            .order_by(SampleItem.position)
        )
    )
    assert all(aw.kinds[str(a)] == stratum for a, stratum in rows)
    # Strata are interleaved in review order: the first three items cover both.
    assert {s for _, s in rows[:3]} == {"individual", "organisation"}
    again = await aw.draw(design="stratified", stratify_by="respondent_kind", size=9, seed=7)
    assert await drawn_answers(session, again.json()["id"]) == [str(a) for a, _ in rows]


async def test_stratified_by_theme_and_confidence_band(aw: AuditWorld) -> None:
    by_theme = await aw.draw(design="stratified", stratify_by="theme", size=12, seed=3)
    assert by_theme.status_code == 201, by_theme.text
    # Main theme: the present theme with the highest confidence (P1-01 at 0.95 first).
    expected: dict[str, int] = {}
    for i in range(30):
        present = {c: conf for c, (p, conf) in pattern(i).items() if p}
        main = max(present, key=lambda c: present[c]) if present else "none"
        expected[main] = expected.get(main, 0) + 1
    assert by_theme.json()["population_sizes"] == expected
    assert all(n >= 1 for n in by_theme.json()["sample_sizes"].values())
    assert sum(by_theme.json()["sample_sizes"].values()) == 12
    by_band = await aw.draw(design="stratified", stratify_by="confidence_band", size=6, seed=3)
    assert by_band.status_code == 201, by_band.text
    # Least sure model decision: max(c, 1 - c) is 0.6 / 0.65 (low) or 0.75 (medium) here.
    bands = by_band.json()["population_sizes"]
    assert set(bands) <= {"low", "medium", "high", "human"} and sum(bands.values()) == 30
    assert bands["low"] > 0 and bands["medium"] > 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"size": 5, "margin": 0.05}, 422, "validation_failed"),
        ({}, 422, "validation_failed"),
        ({"design": "stratified", "size": 5}, 422, "validation_failed"),
        ({"stratify_by": "theme", "size": 5}, 422, "validation_failed"),
        ({"size": 0}, 422, "validation_failed"),
        ({"size": 5, "seed": -1}, 422, "validation_failed"),
        ({"size": 31}, 422, "invalid_sample"),
        ({"design": "stratified", "stratify_by": "theme", "size": 2}, 422, "invalid_sample"),
        ({"size": 5, "codeframe_id": str(uuid.uuid4())}, 422, "invalid_sample"),
        ({"size": 5, "surprise": True}, 422, "validation_failed"),
    ],
)
async def test_bad_draws_are_refused_and_store_nothing(
    aw: AuditWorld, session: AsyncSession, body: dict[str, Any], status: int, code: str
) -> None:
    response = await aw.draw(**body)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert await sample_count(session) == 0


async def test_nothing_to_sample(client: httpx.AsyncClient, users: Users) -> None:
    world = await make_world(client, users)
    url = f"/api/v1/proposals/{world.proposal_id}/audit-samples"
    no_codeframe = await client.post(url, json={"size": 3}, headers=world.headers)
    assert no_codeframe.status_code == 409
    assert no_codeframe.json()["code"] == "codeframe_not_published"
    await world.published()
    nothing = await client.post(url, json={"size": 3}, headers=world.headers)
    assert nothing.status_code == 409 and nothing.json()["code"] == "nothing_to_sample"


# --------------------------------------------------------------------------------------
# Blind review
# --------------------------------------------------------------------------------------


async def test_blind_review_then_comparison(aw: AuditWorld, session: AsyncSession) -> None:
    reviewer = await aw.reviewer()
    drawn = await aw.draw(reviewer, size=4, seed=11)  # reviewers may draw samples
    assert drawn.status_code == 201, drawn.text
    sample_id = drawn.json()["id"]
    base = f"/api/v1/audit-samples/{sample_id}"

    nxt = await aw.client.get(f"{base}/items/next", headers=reviewer)
    assert nxt.status_code == 200, nxt.text
    view = nxt.json()
    assert view["blind"] is True and view["position"] == 1 and view["items"] == 4
    assert view["comparison"] is None and view["my_review"] is None and view["stratum"] is None
    assert [t["code"] for t in view["themes"]] == ["P1-01", "P1-02", "P1-03"]
    answer_index = aw.answers.index((await drawn_answers(session, sample_id))[0])
    # Redacted text only: no raw email, no respondent name or contact.
    assert "[EMAIL]" in view["answer"]["redacted_text"]
    raw = nxt.text
    for secret in (
        f"resp{answer_index}@example.com",
        f"contact{answer_index}@example.org",
        f"Person{answer_index}",
        "confidence",
        "current",
        "model",
    ):
        assert secret not in raw, secret
    listed = await aw.client.get(f"{base}/items", headers=reviewer)
    assert [i["stratum"] for i in listed.json()] == [None] * 4

    item_id = view["id"]
    truth = aw.present[aw.answers[answer_index]]
    mine = sorted(truth ^ {"P1-03"})  # agree except on P1-03
    url = f"{base}/items/{item_id}/review"
    unknown = await aw.client.put(url, json={"themes": ["P1-09"]}, headers=reviewer)
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_theme"
    assert unknown.json()["fields"][0]["loc"] == ["themes", 0]
    analyst = await aw.client.put(url, json={"themes": mine}, headers=aw.world.headers)
    assert analyst.status_code == 403
    assert await session.scalar(select(func.count()).select_from(Review)) == 0

    submitted = await aw.client.put(
        url, json={"themes": mine, "stance": "support"}, headers=reviewer
    )
    assert submitted.status_code == 200, submitted.text
    result = submitted.json()
    assert result["blind"] is False and result["my_review"]["themes"] == mine
    rows = {r["code"]: r for r in result["comparison"]["rows"]}
    for code in ("P1-01", "P1-02", "P1-03"):
        assert rows[code]["current"] == (code in truth)
        assert rows[code]["yours"] == (code in mine)
        assert rows[code]["agree"] == (code != "P1-03")
        assert rows[code]["current_source"] == "model"
    assert result["comparison"]["agreed"] == 2 and result["comparison"]["disagreed"] == 1
    assert result["comparison"]["stance"]["yours"] == "support"
    assert result["next_item_id"] is not None

    # A retry of the same review is fine; a different one is refused: reviews are final.
    retry = await aw.client.put(url, json={"themes": mine, "stance": "support"}, headers=reviewer)
    assert retry.status_code == 200
    changed = await aw.client.put(url, json={"themes": []}, headers=reviewer)
    assert changed.status_code == 409 and changed.json()["code"] == "review_final"
    assert await session.scalar(select(func.count()).select_from(Review)) == 1
    events = list(
        await session.execute(text("SELECT after FROM audit_events WHERE action = 'review.submit'"))
    )
    assert len(events) == 1 and events[0][0]["themes"] == mine

    # The next item is the following one; the item list shows the reviewed one's stratum.
    following = await aw.client.get(f"{base}/items/next", headers=reviewer)
    assert following.json()["position"] == 2 and following.json()["blind"] is True
    listed = await aw.client.get(f"{base}/items", headers=reviewer)
    assert listed.json()[0]["reviewed_by_me"] and listed.json()[0]["stratum"] == "all"

    # A second reviewer is blind to the codes AND to the first review until they submit.
    second = await aw.reviewer()
    blind = await aw.client.get(f"{base}/items/{item_id}", headers=second)
    assert blind.json()["blind"] is True and blind.json()["comparison"] is None
    assert "Reviewer 1" not in blind.text
    done = await aw.client.put(url, json={"themes": sorted(truth)}, headers=second)
    rows = {r["code"]: r for r in done.json()["comparison"]["rows"]}
    assert rows["P1-03"]["others"] == [{"reviewer": "Reviewer 1", "present": "P1-03" in mine}]
    assert all(r["agree"] for r in rows.values())
    # Analysts are not blind: they see the codes and every review.
    seen = await aw.client.get(f"{base}/items/{item_id}", headers=aw.world.headers)
    assert seen.json()["blind"] is False
    assert len(seen.json()["comparison"]["rows"][0]["others"]) == 2
    progress = (await aw.client.get(base, headers=second)).json()["progress"]
    assert progress == {"items": 4, "reviewed_items": 1, "reviews": 2, "reviewers": 2, "mine": 1}


async def test_next_is_204_when_every_item_is_reviewed(aw: AuditWorld) -> None:
    reviewer = await aw.reviewer()
    sample_id = (await aw.draw(size=2, seed=5)).json()["id"]
    base = f"/api/v1/audit-samples/{sample_id}"
    for _ in range(2):
        item = (await aw.client.get(f"{base}/items/next", headers=reviewer)).json()
        put = await aw.client.put(
            f"{base}/items/{item['id']}/review", json={"themes": []}, headers=reviewer
        )
        assert put.status_code == 200
    assert put.json()["next_item_id"] is None
    done = await aw.client.get(f"{base}/items/next", headers=reviewer)
    assert done.status_code == 204


async def test_access_to_samples(aw: AuditWorld) -> None:
    """Every SAMPLE_MEMBER route: 401 unsigned, 403 for members of another consultation."""
    sample_id = (await aw.draw(size=3, seed=1)).json()["id"]
    base = f"/api/v1/audit-samples/{sample_id}"
    item_id = (await aw.client.get(f"{base}/items", headers=aw.world.headers)).json()[0]["id"]
    routes = sorted(key for key, rule in ROUTE_ACCESS.items() if rule == SAMPLE_MEMBER)
    assert len(routes) == 9
    bodies = {"POST": {"size": 2}, "PUT": {"themes": []}}
    await create_consultation(aw.client, aw.world.admin, "elsewhere")
    outsiders = [
        bearer(await aw.world.users.token(role, member_of=["elsewhere"]))
        for role in (Role.reviewer, Role.analyst)
    ]
    member = await aw.reviewer()
    for method, path in routes:
        url = path.format(proposal_id=aw.proposal_id, sample_id=sample_id, item_id=item_id)
        if url.endswith("/size"):
            url += "?margin=0.1"
        body = bodies.get(method)
        assert (await aw.client.request(method, url, json=body)).status_code == 401
        for outsider in outsiders:
            refused = await aw.client.request(method, url, json=body, headers=outsider)
            assert refused.status_code == 403, (method, url, refused.text)
            assert refused.json()["code"] == "forbidden"
        allowed = await aw.client.request(method, url, json=body, headers=member)
        assert allowed.is_success, (method, url, allowed.text)
        admin = await aw.client.request(method, url, json=body, headers=bearer(aw.world.admin))
        # Admins read everything; only reviewers submit blind reviews.
        assert admin.status_code == (403 if method == "PUT" else 200 if method == "GET" else 201)
    missing = await aw.client.get(f"/api/v1/audit-samples/{uuid.uuid4()}", headers=aw.world.headers)
    assert missing.status_code == 404
    wrong_item = await aw.client.get(f"{base}/items/{uuid.uuid4()}", headers=aw.world.headers)
    assert wrong_item.status_code == 404


async def test_draw_from_the_command_line(aw: AuditWorld, session: AsyncSession) -> None:
    from app.errors import NotFound
    from app.samples.cli import draw, summary

    sample = await draw(session, slug=SLUG, proposal=1, body={"size": 5, "seed": 9}, email=None)
    assert sample.drawn_by is None and sample.size == 5 and sample.seed == 9
    api = await aw.draw(size=5, seed=9)
    assert await drawn_answers(session, str(sample.id)) == await drawn_answers(
        session, api.json()["id"]
    )
    assert '"seed": 9' in summary(sample)
    actor = await session.scalar(
        text("SELECT actor_label FROM audit_events WHERE entity_id = :id"), {"id": str(sample.id)}
    )
    assert actor == "consult audit sample"
    with pytest.raises(NotFound):
        await draw(session, slug=SLUG, proposal=3, body={"size": 5}, email=None)

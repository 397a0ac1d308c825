"""Theme discovery runs, suggestions and making codeframe themes of them (API)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.codeframes import service as codeframes
from app.codeframes.schemas import MergeOp, RetireOp, SplitOp, ThemeIn
from app.enums import Role
from app.users.models import User
from benchmarks.discovery_quality import planted
from tests.conftest import Users, bearer
from tests.factories import create_consultation, question_ids
from tests.test_campaigns import add_response, run_now


class World:
    def __init__(self, detail: dict[str, Any], admin: str) -> None:
        self.detail = detail
        self.admin = admin
        self.proposal = detail["proposals"][0]["id"]
        self.q = question_ids(detail)
        self.truth: dict[str, str] = {}


async def world(
    client: httpx.AsyncClient, users: Users, session: AsyncSession, campaign: int = 0
) -> World:
    admin = await users.token(Role.admin)
    detail = await create_consultation(client, admin, "discovery")
    w = World(detail, admin)
    texts, truth = planted(n_per_topic=20, seed=5, topics=["privacy", "cost", "health"])
    for i, (body, topic) in enumerate(zip(texts, truth, strict=True)):
        # Raw text has a name; the redacted text (all that suggestions show) has [NAME].
        if i % 4 == 0:
            body = f"{body} Signed [NAME]"
        response = await add_response(session, detail["id"], {w.q["1"]: body})
        w.truth[str(response)] = topic
    if campaign:
        campaign_id = uuid.uuid4()
        await session.execute(
            text(
                "INSERT INTO campaigns (id, consultation_id, template_text, member_count, label) "
                "VALUES (:id, :c, 'letter', :n, 'Campaign 1')"
            ),
            {"id": campaign_id, "c": detail["id"], "n": campaign},
        )
        letter = "Scrap the digital identity scheme, the digital identity card is unnecessary."
        for _ in range(campaign):
            response = await add_response(session, detail["id"], {w.q["1"]: letter})
            await session.execute(
                text("UPDATE responses SET campaign_id = :c WHERE id = :r"),
                {"c": campaign_id, "r": response},
            )
    await session.commit()
    return w


async def discover(
    client: httpx.AsyncClient, session: AsyncSession, w: World, token: str, **body: Any
) -> Any:
    started = await client.post(
        f"/api/v1/proposals/{w.proposal}/discover", json=body or None, headers=bearer(token)
    )
    assert started.status_code == 202, started.text
    run = started.json()
    assert run["kind"] == "discover" and run["proposal_id"] == w.proposal and run["chunks"] == 1
    return await run_now(session, run["id"])


async def suggestions(client: httpx.AsyncClient, w: World, token: str) -> dict[str, Any]:
    got = await client.get(
        f"/api/v1/proposals/{w.proposal}/theme-suggestions", headers=bearer(token)
    )
    assert got.status_code == 200, got.text
    return dict(got.json())


async def test_discovery_suggests_the_planted_themes_with_redacted_representatives(
    client: httpx.AsyncClient, users: Users, session: AsyncSession
) -> None:
    w = await world(client, users, session)
    empty = await suggestions(client, w, w.admin)
    assert empty["run_id"] is None and empty["suggestions"] == []
    run = await discover(client, session, w, w.admin, n_themes=3, seed=1)
    assert run.status.value == "succeeded", run.error
    assert run.seed == 1 and run.parameters["n_themes"] == 3
    assert run.metrics["answers"] == 60 and run.metrics["candidates"] == 3
    found = await suggestions(client, w, w.admin)
    assert found["run_id"] == str(run.id) and len(found["suggestions"]) == 3
    topics = set()
    for s in found["suggestions"]:
        assert s["label"] and s["top_terms"] and 1 <= len(s["representatives"]) <= 3
        assert s["answer_count"] > 0 and 0 < s["share"] <= 1
        rep_topics = {
            w.truth[
                str(
                    await session.scalar(
                        text("SELECT response_id FROM answers WHERE id = :a"), {"a": r["answer_id"]}
                    )
                )
            ]
            for r in s["representatives"]
        }
        # Representatives of one candidate come from one planted topic.
        assert len(rep_topics) == 1
        topics |= rep_topics
        for r in s["representatives"]:
            assert "Jane Doe" not in r["text"]
    assert topics == {"privacy", "cost", "health"}
    assert sum(s["answer_count"] for s in found["suggestions"]) == 60

    # Same data and seed: the same suggestions.
    again = await discover(client, session, w, w.admin, n_themes=3, seed=1)
    second = await suggestions(client, w, w.admin)
    assert second["run_id"] == str(again.id)
    strip = [(s["label"], s["top_terms"], s["answer_count"]) for s in found["suggestions"]]
    assert strip == [(s["label"], s["top_terms"], s["answer_count"]) for s in second["suggestions"]]
    assert (
        again.data_hash == run.data_hash
        and again.metrics["output_hash"] == run.metrics["output_hash"]
    )


async def test_campaign_letters_count_once(
    client: httpx.AsyncClient, users: Users, session: AsyncSession
) -> None:
    w = await world(client, users, session, campaign=40)
    run = await discover(client, session, w, w.admin)
    assert run.metrics["answers"] == 100
    # 60 independent answers, and the 40 identical letters as one document.
    assert run.metrics["documents"] == 61


async def test_from_suggestions_accept_rename_merge_drop(
    client: httpx.AsyncClient, users: Users, session: AsyncSession
) -> None:
    w = await world(client, users, session)
    analyst = await users.token(Role.analyst, member_of=["discovery"])
    await discover(client, session, w, analyst, n_themes=3)
    s = (await suggestions(client, w, analyst))["suggestions"]
    url = f"/api/v1/proposals/{w.proposal}/codeframes/from-suggestions"

    bad = await client.post(
        url,
        json={"themes": [{"suggestion_ids": [s[0]["id"], str(uuid.uuid4())]}]},
        headers=bearer(analyst),
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_suggestions"
    assert bad.json()["fields"][0]["loc"] == ["themes", 0, "suggestion_ids", 1]
    twice = await client.post(
        url,
        json={"themes": [{"suggestion_ids": [s[0]["id"]]}, {"suggestion_ids": [s[0]["id"]]}]},
        headers=bearer(analyst),
    )
    assert twice.status_code == 422
    assert (
        await session.scalar(
            text("SELECT count(*) FROM codeframes WHERE proposal_id = :p"), {"p": w.proposal}
        )
        == 0
    )

    made = await client.post(
        url,
        json={
            "themes": [
                {"suggestion_ids": [s[0]["id"]], "label": "First theme renamed"},
                {"suggestion_ids": [s[1]["id"], s[2]["id"]]},
            ]
        },
        headers=bearer(analyst),
    )
    assert made.status_code == 201, made.text
    codeframe = made.json()
    assert codeframe["status"] == "draft" and codeframe["version"] == 1
    first, merged = codeframe["themes"]
    assert first["label"] == "First theme renamed"
    assert merged["label"] == s[1]["label"]
    assert (
        set(s[1]["top_terms"][:2])
        <= set(merged["description"].replace(",", " ").replace(".", " ").split())
        or s[1]["top_terms"][0] in merged["description"]
    )
    # Representative answers (redacted) become the theme's examples.
    assert first["examples"] == [r["text"] for r in s[0]["representatives"]]
    assert all("Jane Doe" not in e for t in codeframe["themes"] for e in t["examples"])

    # With a draft, accepted suggestions are added to it.
    more = await client.post(
        url,
        json={"themes": [{"suggestion_ids": [s[2]["id"]], "label": "Third"}]},
        headers=bearer(analyst),
    )
    assert more.status_code == 201, more.text
    assert [t["label"] for t in more.json()["themes"]][-1] == "Third"
    assert more.json()["id"] == codeframe["id"]
    published = await client.post(
        f"/api/v1/codeframes/{codeframe['id']}/publish", headers=bearer(analyst)
    )
    assert published.status_code == 200, published.text

    # After publishing, a new draft is based on the published version (its themes carry).
    nxt = await client.post(
        url,
        json={"themes": [{"suggestion_ids": [s[0]["id"]], "label": "New"}]},
        headers=bearer(analyst),
    )
    assert nxt.status_code == 201, nxt.text
    assert nxt.json()["version"] == 2 and nxt.json()["based_on_id"] == codeframe["id"]
    assert [t["label"] for t in nxt.json()["themes"]] == [
        "First theme renamed",
        s[1]["label"],
        "Third",
        "New",
    ]
    actions = (
        (
            await session.execute(
                text(
                    "SELECT action FROM audit_events WHERE entity_type = 'codeframe' "
                    "AND consultation_id = :c ORDER BY seq"
                ),
                {"c": w.detail["id"]},
            )
        )
        .scalars()
        .all()
    )
    assert actions == [
        "codeframe.create",
        "codeframe.edit",
        "codeframe.publish",
        "codeframe.create",
    ]


async def test_access(client: httpx.AsyncClient, users: Users, session: AsyncSession) -> None:
    w = await world(client, users, session)
    reviewer = await users.token(Role.reviewer, member_of=["discovery"])
    outsider = await users.token(Role.analyst)
    await discover(client, session, w, w.admin, n_themes=2)
    assert len((await suggestions(client, w, reviewer))["suggestions"]) == 2
    for token, code in ((reviewer, 403), (outsider, 403)):
        started = await client.post(
            f"/api/v1/proposals/{w.proposal}/discover", headers=bearer(token)
        )
        assert started.status_code == code and started.json()["code"] == "forbidden"
    denied = await client.get(
        f"/api/v1/proposals/{w.proposal}/theme-suggestions", headers=bearer(outsider)
    )
    assert denied.status_code == 403
    missing = await client.post(
        f"/api/v1/proposals/{uuid.uuid4()}/discover", headers=bearer(w.admin)
    )
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    invalid = await client.post(
        f"/api/v1/proposals/{w.proposal}/discover",
        json={"n_themes": "many"},
        headers=bearer(w.admin),
    )
    assert invalid.status_code == 422


async def test_draft_operations_merge_split_retire(
    client: httpx.AsyncClient, users: Users, session: AsyncSession
) -> None:
    w = await world(client, users, session)
    user = await session.scalar(text("SELECT id FROM users WHERE email = 'admin1@example.org'"))
    admin = await session.get(User, user)
    assert admin is not None
    made = await client.post(
        f"/api/v1/proposals/{w.proposal}/codeframes",
        json={"themes": [{"label": "A"}, {"label": "B"}, {"label": "C"}, {"label": "D"}]},
        headers=bearer(w.admin),
    )
    codes = [t["code"] for t in made.json()["themes"]]
    out = await codeframes.apply_to_draft(
        session,
        codeframe_id=uuid.UUID(made.json()["id"]),
        user=admin,
        operations=[
            MergeOp(op="merge", codes=codes[:2], into=ThemeIn(label="A and B")),
            SplitOp(op="split", code=codes[2], into=[ThemeIn(label="C1"), ThemeIn(label="C2")]),
            RetireOp(op="retire", code=codes[3]),
        ],
    )
    assert sorted(t.label for t in out.themes) == ["A and B", "C1", "C2"]
    assert [e["op"] for e in out.change_log] == ["create", "merge", "split", "retire"]

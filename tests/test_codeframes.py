"""Versioned codeframes: drafts, immutability once published, change-log operations, carry-over."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import Role
from app.responses.models import Answer, Response
from tests.conftest import Users, bearer
from tests.factories import create_consultation, question_ids, submission

THEMES = [
    {"code": "P1-01", "label": "Privacy", "description": "Worries about privacy."},
    {"code": "P1-02", "label": "Security", "include_guidance": "Data breaches, hacking."},
    {"code": "P1-03", "label": "Better services"},
]


@dataclass
class World:
    client: httpx.AsyncClient
    users: Users
    detail: dict[str, Any]
    admin: str
    analyst: str

    @property
    def proposal_id(self) -> str:
        return str(self.detail["proposals"][0]["id"])

    @property
    def other_proposal_id(self) -> str:
        return str(self.detail["proposals"][1]["id"])

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.analyst)

    async def codeframe(self, body: dict[str, Any], proposal_id: str | None = None) -> Any:
        response = await self.client.post(
            f"/api/v1/proposals/{proposal_id or self.proposal_id}/codeframes",
            json=body,
            headers=self.headers,
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def publish(self, codeframe_id: str) -> Any:
        response = await self.client.post(
            f"/api/v1/codeframes/{codeframe_id}/publish", headers=self.headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def published(self, themes: list[dict[str, Any]] | None = None) -> Any:
        draft = await self.codeframe({"themes": THEMES if themes is None else themes})
        return await self.publish(draft["id"])

    async def answer(self, session: AsyncSession, number: str = "1") -> str:
        created = await self.client.post(
            f"/api/v1/consultations/{self.detail['slug']}/responses",
            json=submission(self.detail),
        )
        assert created.status_code == 201, created.text
        question_id = question_ids(self.detail)[number]
        receipt = created.json()["receipt_code"]
        answer_id = await session.scalar(
            select(Answer.id)
            .join(Response, Response.id == Answer.response_id)
            .where(Response.receipt_code == receipt, Answer.question_id == question_id)
        )
        assert answer_id is not None
        return str(answer_id)

    async def code(self, answer_id: str, codeframe_id: str, themes: list[str], **extra: Any) -> Any:
        return await self.client.put(
            f"/api/v1/answers/{answer_id}/codes",
            json={"codeframe_id": codeframe_id, "themes": themes, **extra},
            headers=self.headers,
        )


async def make_world(client: httpx.AsyncClient, users: Users) -> World:
    """An open consultation "coding" and an analyst who is a member of it."""
    admin = await users.token(Role.admin)
    detail = await create_consultation(client, admin, "coding")
    analyst = await users.token(Role.analyst, member_of=["coding"])
    return World(client, users, detail, admin, analyst)


@pytest.fixture
async def world(client: httpx.AsyncClient, users: Users) -> World:
    return await make_world(client, users)


def codes(codeframe: dict[str, Any]) -> list[str]:
    return [t["code"] for t in codeframe["themes"]]


async def test_versions_and_immutability(world: World) -> None:
    draft = await world.codeframe({"themes": THEMES})
    assert draft["version"] == 1 and draft["status"] == "draft"
    assert codes(draft) == ["P1-01", "P1-02", "P1-03"]
    # Only one draft at a time.
    again = await world.client.post(
        f"/api/v1/proposals/{world.proposal_id}/codeframes", json={}, headers=world.headers
    )
    assert again.status_code == 409 and again.json()["code"] == "codeframe_draft_exists"
    # A draft can be edited.
    edited = await world.client.patch(
        f"/api/v1/codeframes/{draft['id']}/themes/P1-01",
        json={"label": "Privacy and consent", "examples": ["I do not want my data shared."]},
        headers=world.headers,
    )
    assert edited.status_code == 200, edited.text
    added = await world.client.post(
        f"/api/v1/codeframes/{draft['id']}/themes",
        json={"label": "Consent", "parent_code": "P1-01"},
        headers=world.headers,
    )
    assert added.status_code == 201, added.text
    consent = added.json()["themes"][-1]
    assert consent["code"] == "P1-04" and consent["parent_code"] == "P1-01"
    assert [e["op"] for e in added.json()["change_log"]] == ["create", "edit", "add"]

    v1 = await world.publish(draft["id"])
    assert v1["status"] == "published" and v1["published_at"]
    for method, path, body in [
        ("PATCH", f"/api/v1/codeframes/{v1['id']}/themes/P1-01", {"label": "x"}),
        ("POST", f"/api/v1/codeframes/{v1['id']}/themes", {"label": "x"}),
        ("POST", f"/api/v1/codeframes/{v1['id']}/publish", None),
    ]:
        refused = await world.client.request(method, path, json=body, headers=world.headers)
        assert refused.status_code == 409 and refused.json()["code"] == "codeframe_published"

    v2 = await world.codeframe({"based_on": v1["id"], "operations": []})
    assert v2["version"] == 2 and v2["based_on_id"] == v1["id"]
    await world.publish(v2["id"])
    listed = await world.client.get(
        f"/api/v1/proposals/{world.proposal_id}/codeframes", headers=world.headers
    )
    assert [(v["version"], v["status"]) for v in listed.json()] == [
        (1, "superseded"),
        (2, "published"),
    ]
    # A new version must build on the current one.
    stale = await world.client.post(
        f"/api/v1/proposals/{world.proposal_id}/codeframes",
        json={"based_on": v1["id"]},
        headers=world.headers,
    )
    assert stale.status_code == 409 and stale.json()["code"] == "codeframe_not_current"


async def test_empty_codeframe_cannot_be_published(world: World) -> None:
    draft = await world.codeframe({})
    refused = await world.client.post(
        f"/api/v1/codeframes/{draft['id']}/publish", headers=world.headers
    )
    assert refused.status_code == 409 and refused.json()["code"] == "codeframe_empty"


async def test_operations_make_a_change_log(world: World) -> None:
    v1 = await world.published(
        [*THEMES, {"code": "P1-04", "label": "Cost"}, {"code": "P1-05", "label": "Trust"}]
    )
    v2 = await world.codeframe(
        {
            "based_on": v1["id"],
            "operations": [
                {"op": "add", "theme": {"label": "Fairness"}},
                {"op": "rename", "code": "P1-03", "label": "Tailored services"},
                {"op": "merge", "codes": ["P1-01", "P1-02"], "into": {"label": "Data protection"}},
                {
                    "op": "split",
                    "code": "P1-04",
                    "into": [{"label": "Cost to taxpayer"}, {"label": "Cost to citizen"}],
                },
                {"op": "retire", "code": "P1-05"},
            ],
        }
    )
    assert codes(v2) == ["P1-03", "P1-06", "P1-07", "P1-08", "P1-09"]
    by_code = {t["code"]: t for t in v2["themes"]}
    old = {t["code"]: t["id"] for t in v1["themes"]}
    assert by_code["P1-03"]["label"] == "Tailored services"
    assert by_code["P1-03"]["origin_theme_ids"] == [old["P1-03"]]
    assert by_code["P1-06"]["origin_theme_ids"] == []
    assert sorted(by_code["P1-07"]["origin_theme_ids"]) == sorted([old["P1-01"], old["P1-02"]])
    assert by_code["P1-08"]["origin_theme_ids"] == by_code["P1-09"]["origin_theme_ids"]
    assert [e["op"] for e in v2["change_log"]] == [
        "based_on",
        "add",
        "rename",
        "merge",
        "split",
        "retire",
    ]
    merge = v2["change_log"][3]
    assert merge["codes"] == ["P1-01", "P1-02"] and merge["into"] == "P1-07" and merge["by"]
    # The published version did not change.
    again = await world.client.get(f"/api/v1/codeframes/{v1['id']}", headers=world.headers)
    assert codes(again.json()) == ["P1-01", "P1-02", "P1-03", "P1-04", "P1-05"]


@pytest.mark.parametrize(
    ("operation", "loc"),
    [
        ({"op": "retire", "code": "P9-99"}, ["operations", 0, "code"]),
        ({"op": "merge", "codes": ["P1-01", "P1-01"], "into": {"label": "x"}}, None),
        ({"op": "add", "theme": {"code": "P1-02", "label": "Dup"}}, None),
        ({"op": "add", "theme": {"label": "x", "parent_code": "P1-77"}}, None),
    ],
)
async def test_invalid_operations_are_422(
    world: World, operation: dict[str, Any], loc: list[Any] | None
) -> None:
    v1 = await world.published()
    response = await world.client.post(
        f"/api/v1/proposals/{world.proposal_id}/codeframes",
        json={"based_on": v1["id"], "operations": [operation]},
        headers=world.headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_codeframe"
    if loc:
        assert response.json()["fields"][0]["loc"] == loc
    listed = await world.client.get(
        f"/api/v1/proposals/{world.proposal_id}/codeframes", headers=world.headers
    )
    assert len(listed.json()) == 1


async def test_two_levels_at_most(world: World) -> None:
    draft = await world.codeframe(
        {"themes": [*THEMES[:1], {"label": "Sub", "parent_code": "P1-01"}]}
    )
    deeper = await world.client.post(
        f"/api/v1/codeframes/{draft['id']}/themes",
        json={"label": "Sub-sub", "parent_code": draft["themes"][1]["code"]},
        headers=world.headers,
    )
    assert deeper.status_code == 422 and deeper.json()["code"] == "invalid_codeframe"


async def test_merge_and_split_carry_codings(world: World, session: AsyncSession) -> None:
    v1 = await world.published()
    a1, a2, a3 = [await world.answer(session) for _ in range(3)]
    assert (await world.code(a1, v1["id"], ["P1-01"])).status_code == 200
    assert (await world.code(a2, v1["id"], ["P1-02", "P1-03"])).status_code == 200
    assert (await world.code(a3, v1["id"], [])).status_code == 200
    v2 = await world.codeframe(
        {
            "based_on": v1["id"],
            "operations": [
                {"op": "merge", "codes": ["P1-01", "P1-02"], "into": {"label": "Data protection"}},
                {"op": "split", "code": "P1-03", "into": [{"label": "Health"}, {"label": "Tax"}]},
            ],
        }
    )
    assert codes(v2) == ["P1-04", "P1-05", "P1-06"]
    published = await world.publish(v2["id"])
    assert published["change_log"][-1]["carried_codings"] == 9

    async def current(answer_id: str) -> dict[str, Any]:
        response = await world.client.get(
            f"/api/v1/answers/{answer_id}/codes", headers=world.headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["codeframe_version"] == 2
        return {c["code"]: c for c in body["codes"]}

    one = await current(a1)
    assert list(one) == ["P1-04"]
    assert one["P1-04"]["evidence"]["carried"]["operation"] == "merge"
    assert one["P1-04"]["evidence"]["carried"]["from_code"] == "P1-01"
    two = await current(a2)
    assert sorted(two) == ["P1-04", "P1-05", "P1-06"]
    assert two["P1-05"]["needs_review"] and two["P1-06"]["needs_review"]
    assert not two["P1-04"]["needs_review"]
    three = await world.client.get(f"/api/v1/answers/{a3}/codes", headers=world.headers)
    assert three.json()["codes"] == [] and three.json()["coded"] is True
    # Reviewing the split: the analyst's coding supersedes the flagged rows.
    reviewed = await world.code(a2, v2["id"], ["P1-04", "P1-05"])
    assert [(c["code"], c["needs_review"]) for c in reviewed.json()["codes"]] == [
        ("P1-04", False),
        ("P1-05", False),
    ]
    # Version 1 still answers with its own codes.
    old = await world.client.get(
        f"/api/v1/answers/{a2}/codes",
        params={"codeframe_id": v1["id"]},
        headers=world.headers,
    )
    assert [c["code"] for c in old.json()["codes"]] == ["P1-02", "P1-03"]


async def test_reviewer_reads_codeframes_but_cannot_change_them(world: World) -> None:
    v1 = await world.published()
    reviewer = bearer(await world.users.token(Role.reviewer, member_of=["coding"]))
    listed = await world.client.get(
        f"/api/v1/proposals/{world.proposal_id}/codeframes", headers=reviewer
    )
    assert listed.status_code == 200 and len(listed.json()) == 1
    assert (await world.client.get(f"/api/v1/codeframes/{v1['id']}", headers=reviewer)).is_success
    created = await world.client.post(
        f"/api/v1/proposals/{world.proposal_id}/codeframes", json={}, headers=reviewer
    )
    assert created.status_code == 403
    await create_consultation(world.client, world.admin, "elsewhere")
    outsider = bearer(await world.users.token(Role.reviewer, member_of=["elsewhere"]))
    refused = await world.client.get(f"/api/v1/codeframes/{v1['id']}", headers=outsider)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"

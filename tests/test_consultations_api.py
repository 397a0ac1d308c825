from __future__ import annotations

import httpx

from app.enums import Role
from tests.conftest import Users, bearer
from tests.factories import consultation_body, create_consultation


async def test_admin_creates_opens_and_closes_a_consultation(
    client: httpx.AsyncClient, users: Users
) -> None:
    admin = await users.token(Role.admin)
    detail = await create_consultation(client, admin, "alpha", open_it=False)
    assert detail["status"] == "draft"
    assert [p["title"] for p in detail["proposals"]] == ["Tailored public services", "Fuel poverty"]
    stance = detail["proposals"][0]["questions"][1]
    assert stance["is_stance"] is True and stance["stance_map"]["Agree"] == "support"

    opened = await client.post("/api/v1/consultations/alpha/open", headers=bearer(admin))
    assert opened.json()["status"] == "open" and opened.json()["accepting_responses"] is True
    closed = await client.post("/api/v1/consultations/alpha/close", headers=bearer(admin))
    assert closed.json()["status"] == "closed" and closed.json()["accepting_responses"] is False
    again = await client.post("/api/v1/consultations/alpha/close", headers=bearer(admin))
    assert again.status_code == 409 and again.json()["code"] == "invalid_status_transition"


async def test_list_and_detail_shapes(client: httpx.AsyncClient, users: Users) -> None:
    admin = await users.token(Role.admin)
    await create_consultation(client, admin, "beta")
    listed = (await client.get("/api/v1/consultations")).json()
    entry = next(c for c in listed if c["slug"] == "beta")
    assert set(entry) == {"slug", "title", "status", "opens_at", "closes_at"}
    detail = (await client.get("/api/v1/consultations/beta")).json()
    question = detail["proposals"][1]["questions"][1]
    assert {"id", "number", "text", "kind", "options", "required"} <= set(question)
    assert question["kind"] == "multi_choice" and question["options"][0] == "Consent"


async def test_drafts_are_visible_to_admins_only(client: httpx.AsyncClient, users: Users) -> None:
    admin = await users.token(Role.admin)
    analyst = await users.token(Role.analyst)
    await create_consultation(client, admin, "gamma", open_it=False)
    assert (await client.get("/api/v1/consultations/gamma")).status_code == 404
    assert (
        await client.get("/api/v1/consultations/gamma", headers=bearer(analyst))
    ).status_code == 404
    assert (
        await client.get("/api/v1/consultations/gamma", headers=bearer(admin))
    ).status_code == 200
    public = [c["slug"] for c in (await client.get("/api/v1/consultations")).json()]
    assert "gamma" not in public
    as_admin = [
        c["slug"] for c in (await client.get("/api/v1/consultations", headers=bearer(admin))).json()
    ]
    assert "gamma" in as_admin


async def test_admin_edits_proposals_and_questions(client: httpx.AsyncClient, users: Users) -> None:
    admin = await users.token(Role.admin)
    detail = await create_consultation(client, admin, "delta", open_it=False)
    proposal_id = detail["proposals"][0]["id"]
    added = await client.post(
        "/api/v1/consultations/delta/proposals",
        json={
            "title": "Debt",
            "questions": [{"number": "5", "text": "Views?", "kind": "open_text"}],
        },
        headers=bearer(admin),
    )
    assert added.status_code == 201 and added.json()["position"] == 2
    question = await client.post(
        f"/api/v1/proposals/{proposal_id}/questions",
        json={"number": "1a", "text": "Anything else?", "kind": "open_text"},
        headers=bearer(admin),
    )
    assert question.status_code == 201
    renamed = await client.patch(
        f"/api/v1/questions/{question.json()['id']}",
        json={"text": "Anything more?"},
        headers=bearer(admin),
    )
    assert renamed.json()["text"] == "Anything more?"
    retitled = await client.patch(
        f"/api/v1/proposals/{proposal_id}",
        json={"title": "Tailored services"},
        headers=bearer(admin),
    )
    assert retitled.json()["title"] == "Tailored services"
    patched = await client.patch(
        "/api/v1/consultations/delta", json={"title": "New title"}, headers=bearer(admin)
    )
    assert patched.json()["title"] == "New title"


async def test_structure_is_frozen_once_open(client: httpx.AsyncClient, users: Users) -> None:
    admin = await users.token(Role.admin)
    detail = await create_consultation(client, admin, "epsilon")
    proposal_id = detail["proposals"][0]["id"]
    refused = await client.post(
        f"/api/v1/proposals/{proposal_id}/questions",
        json={"number": "9", "text": "Late question", "kind": "open_text"},
        headers=bearer(admin),
    )
    assert refused.status_code == 409 and refused.json()["code"] == "consultation_not_draft"


async def test_invalid_definitions_are_refused(client: httpx.AsyncClient, users: Users) -> None:
    admin = await users.token(Role.admin)
    body = consultation_body("zeta")
    body["proposals"][0]["questions"][1]["stance_map"] = {"Maybe": "support"}
    bad_stance = await client.post("/api/v1/consultations", json=body, headers=bearer(admin))
    assert bad_stance.status_code == 422 and bad_stance.json()["code"] == "validation_failed"
    assert bad_stance.json()["fields"][0]["loc"][:3] == ["proposals", 0, "questions"]

    bad_slug = await client.post(
        "/api/v1/consultations", json=consultation_body("Not A Slug"), headers=bearer(admin)
    )
    assert bad_slug.status_code == 422

    body = consultation_body("eta")
    body["proposals"][1]["questions"][0]["number"] = "1"
    duplicate_number = await client.post("/api/v1/consultations", json=body, headers=bearer(admin))
    assert (
        duplicate_number.status_code == 409 and duplicate_number.json()["code"] == "already_exists"
    )
    assert (await client.get("/api/v1/consultations/eta", headers=bearer(admin))).status_code == 404

    await create_consultation(client, admin, "theta", open_it=False)
    taken = await client.post(
        "/api/v1/consultations", json=consultation_body("theta"), headers=bearer(admin)
    )
    assert taken.status_code == 409

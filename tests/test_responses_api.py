from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import ratelimit
from app.config import get_settings
from app.enums import Role
from app.responses.models import Answer, Respondent, Response
from tests.conftest import Users, bearer
from tests.factories import create_consultation, question_ids, submission


async def stored_counts(session: AsyncSession) -> tuple[int, int, int]:
    return (
        int(await session.scalar(select(func.count()).select_from(Respondent)) or 0),
        int(await session.scalar(select(func.count()).select_from(Response)) or 0),
        int(await session.scalar(select(func.count()).select_from(Answer)) or 0),
    )


@pytest.fixture
async def consultation(client: httpx.AsyncClient, users: Users) -> dict[str, Any]:
    admin = await users.token(Role.admin)
    return await create_consultation(client, admin, "open-one")


async def test_submit_returns_a_receipt_and_stores_the_response(
    client: httpx.AsyncClient, session: AsyncSession, consultation: dict[str, Any]
) -> None:
    body = submission(consultation, email="jo@example.org", name="Jo Bloggs")
    body["answers"][0]["text"] = "I am Jo Bloggs, email me at jo@example.org or call 07700 900123."
    created = await client.post("/api/v1/consultations/open-one/responses", json=body)
    assert created.status_code == 201, created.text
    receipt = created.json()
    assert len(receipt["receipt_code"]) == 14 and receipt["status"] == "received"
    assert receipt["view_url"].startswith(f"/c/open-one/receipt/{receipt['receipt_code']}?secret=")

    answer = await session.scalar(select(Answer).where(Answer.text.contains("Jo Bloggs")))
    assert answer is not None
    assert answer.text == body["answers"][0]["text"]  # raw text kept as submitted
    assert "jo@example.org" not in (answer.redacted_text or "")
    assert "07700 900123" not in (answer.redacted_text or "")
    assert "Bloggs" not in (answer.redacted_text or "")
    assert "[EMAIL]" in (answer.redacted_text or "") and "[PHONE]" in (answer.redacted_text or "")
    assert await stored_counts(session) == (1, 1, 3)


async def test_view_and_withdraw_with_the_secret(
    client: httpx.AsyncClient, consultation: dict[str, Any]
) -> None:
    receipt = (
        await client.post("/api/v1/consultations/open-one/responses", json=submission(consultation))
    ).json()
    url = f"/api/v1/consultations/open-one/responses/{receipt['receipt_code']}"
    seen = await client.get(url, params={"secret": receipt["secret"]})
    assert seen.status_code == 200
    assert [a["question_number"] for a in seen.json()["answers"]] == ["1", "2", "4"]
    assert (await client.get(url, params={"secret": "wrong"})).status_code == 404

    withdrawn = await client.post(f"{url}/withdraw", json={"secret": receipt["secret"]})
    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == "withdrawn" and withdrawn.json()["status_changed_at"]
    # Recorded, not erased: the response can still be viewed, marked withdrawn.
    assert (await client.get(url, params={"secret": receipt["secret"]})).json()[
        "status"
    ] == "withdrawn"
    assert (await client.post(f"{url}/withdraw", json={"secret": "nope"})).status_code == 404


async def test_idempotency_key_stores_one_response(
    client: httpx.AsyncClient, session: AsyncSession, consultation: dict[str, Any]
) -> None:
    body = submission(consultation)
    headers = {"Idempotency-Key": "retry-123"}
    first = await client.post(
        "/api/v1/consultations/open-one/responses", json=body, headers=headers
    )
    second = await client.post(
        "/api/v1/consultations/open-one/responses", json=body, headers=headers
    )
    assert first.status_code == 201 and second.status_code == 201
    assert first.json() == second.json()
    assert await stored_counts(session) == (1, 1, 3)

    body["answers"][0]["text"] = "Something different"
    reused = await client.post(
        "/api/v1/consultations/open-one/responses", json=body, headers=headers
    )
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"
    assert await stored_counts(session) == (1, 1, 3)


@pytest.mark.parametrize("action", ["close", None])
async def test_closed_or_draft_consultation_refuses(
    client: httpx.AsyncClient, session: AsyncSession, users: Users, action: str | None
) -> None:
    admin = await users.token(Role.admin)
    detail = await create_consultation(client, admin, "shut", open_it=action is not None)
    if action:
        await client.post(f"/api/v1/consultations/shut/{action}", headers=bearer(admin))
        expected = (409, "consultation_closed")
    else:
        expected = (404, "not_found")  # a draft is invisible to the public
    refused = await client.post("/api/v1/consultations/shut/responses", json=submission(detail))
    assert (refused.status_code, refused.json()["code"]) == expected
    assert await stored_counts(session) == (0, 0, 0)


async def test_past_closing_date_refuses(client: httpx.AsyncClient, users: Users) -> None:
    admin = await users.token(Role.admin)
    detail = await create_consultation(
        client, admin, "past", opens_at="2020-01-01T00:00:00Z", closes_at="2020-02-01T00:00:00Z"
    )
    refused = await client.post("/api/v1/consultations/past/responses", json=submission(detail))
    assert refused.status_code == 409 and refused.json()["code"] == "consultation_closed"


def _bad_bodies(detail: dict[str, Any]) -> list[tuple[str, dict[str, Any], list[Any]]]:
    ids = question_ids(detail)
    good = submission(detail)

    def variant(**changes: Any) -> dict[str, Any]:
        body = {
            "respondent": dict(good["respondent"]),
            "answers": [dict(a) for a in good["answers"]],
        }
        for key, value in changes.items():
            if key == "respondent":
                body["respondent"].update(value)
            else:
                body[key] = value
        return body

    return [
        (
            "missing required",
            variant(answers=[{"question_id": ids["1"], "text": "hi"}]),
            ["answers", ids["2"]],
        ),
        (
            "invalid option",
            variant(answers=[{"question_id": ids["2"], "options": ["Perhaps"]}]),
            ["answers", 0],
        ),
        (
            "two options for single",
            variant(answers=[{"question_id": ids["2"], "options": ["Agree", "Disagree"]}]),
            ["answers", 0],
        ),
        (
            "text on choice",
            variant(answers=[{"question_id": ids["2"], "text": "Agree"}]),
            ["answers", 0],
        ),
        (
            "options on text",
            variant(
                answers=[
                    {"question_id": ids["1"], "options": ["x"]},
                    {"question_id": ids["2"], "options": ["Agree"]},
                ]
            ),
            ["answers", 0],
        ),
        (
            "unknown question",
            variant(
                answers=[
                    {"question_id": "00000000-0000-0000-0000-000000000000", "text": "x"},
                    {"question_id": ids["2"], "options": ["Agree"]},
                ]
            ),
            ["answers", 0, "question_id"],
        ),
        (
            "duplicate question",
            variant(
                answers=[
                    {"question_id": ids["2"], "options": ["Agree"]},
                    {"question_id": ids["2"], "options": ["Agree"]},
                ]
            ),
            ["answers", 1, "question_id"],
        ),
        (
            "too long",
            variant(
                answers=[
                    {"question_id": ids["1"], "text": "x" * (get_settings().max_answer_chars + 1)},
                    {"question_id": ids["2"], "options": ["Agree"]},
                ]
            ),
            ["answers", 0],
        ),
        ("bad kind", variant(respondent={"kind": "robot"}), ["respondent", "kind"]),
        (
            "organisation without name",
            variant(respondent={"kind": "organisation"}),
            ["respondent", "organisation_name"],
        ),
        (
            "bad consent",
            variant(respondent={"publication_consent": "maybe"}),
            ["respondent", "publication_consent"],
        ),
        ("bad email", variant(respondent={"email": "not-an-email"}), ["respondent", "email"]),
        (
            "unknown field",
            variant(respondent={"favourite_colour": "blue"}),
            ["respondent", "favourite_colour"],
        ),
        ("no answers", variant(answers=[]), ["answers"]),
        (
            "not a uuid",
            variant(answers=[{"question_id": "abc", "text": "x"}]),
            ["answers", 0, "question_id"],
        ),
    ]


async def test_every_invalid_submission_gets_422_naming_the_field_and_stores_nothing(
    client: httpx.AsyncClient, session: AsyncSession, consultation: dict[str, Any]
) -> None:
    for name, body, loc in _bad_bodies(consultation):
        response = await client.post("/api/v1/consultations/open-one/responses", json=body)
        assert response.status_code == 422, name
        error = response.json()
        assert error["code"] == "validation_failed", name
        assert error["message"], name
        assert any(f["loc"][: len(loc)] == loc for f in error["fields"]), (name, error["fields"])
    assert await stored_counts(session) == (0, 0, 0)


async def test_malformed_json_is_422(
    client: httpx.AsyncClient, consultation: dict[str, Any]
) -> None:
    response = await client.post(
        "/api/v1/consultations/open-one/responses",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422 and response.json()["code"] == "validation_failed"


async def test_oversized_body_is_413(
    client: httpx.AsyncClient, session: AsyncSession, consultation: dict[str, Any]
) -> None:
    body = submission(consultation)
    body["answers"][0]["text"] = "x" * (get_settings().max_body_bytes + 10)
    response = await client.post("/api/v1/consultations/open-one/responses", json=body)
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"
    assert await stored_counts(session) == (0, 0, 0)


async def test_unknown_consultation_is_404(
    client: httpx.AsyncClient, consultation: dict[str, Any]
) -> None:
    response = await client.post(
        "/api/v1/consultations/nope/responses", json=submission(consultation)
    )
    assert response.status_code == 404 and response.json()["code"] == "not_found"


async def test_submissions_are_rate_limited(
    client: httpx.AsyncClient, consultation: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "submissions_per_minute", 2)
    ratelimit.reset()
    try:
        codes = [
            (
                await client.post(
                    "/api/v1/consultations/open-one/responses", json=submission(consultation)
                )
            ).status_code
            for _ in range(3)
        ]
    finally:
        ratelimit.reset()
    assert codes == [201, 201, 429]

"""Consultations the tests create through the real API."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import bearer


def consultation_body(slug: str = "data-sharing", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "slug": slug,
        "title": "Better use of data",
        "description": "Proposals on sharing data between public bodies.",
        "proposals": [
            {
                "title": "Tailored public services",
                "summary": "Share data to offer services to the people who need them.",
                "questions": [
                    {
                        "number": "1",
                        "text": "What do you think of this proposal?",
                        "kind": "open_text",
                    },
                    {
                        "number": "2",
                        "text": "Do you agree with this proposal?",
                        "kind": "single_choice",
                        "options": ["Agree", "Disagree", "Neither agree nor disagree"],
                        "required": True,
                        "stance_map": {
                            "Agree": "support",
                            "Disagree": "oppose",
                            "Neither agree nor disagree": "neutral",
                        },
                    },
                ],
            },
            {
                "title": "Fuel poverty",
                "summary": "Share energy data to find households in fuel poverty.",
                "questions": [
                    {"number": "3", "text": "Any comments?", "kind": "open_text"},
                    {
                        "number": "4",
                        "text": "Which safeguards matter most?",
                        "kind": "multi_choice",
                        "options": ["Consent", "Oversight", "Security", "Transparency"],
                    },
                ],
            },
        ],
    }
    body.update(overrides)
    return body


async def create_consultation(
    client: httpx.AsyncClient,
    admin_token: str,
    slug: str = "data-sharing",
    *,
    open_it: bool = True,
    **overrides: Any,
) -> dict[str, Any]:
    created = await client.post(
        "/api/v1/consultations",
        json=consultation_body(slug, **overrides),
        headers=bearer(admin_token),
    )
    assert created.status_code == 201, created.text
    if open_it:
        opened = await client.post(
            f"/api/v1/consultations/{slug}/open", headers=bearer(admin_token)
        )
        assert opened.status_code == 200, opened.text
        return dict(opened.json())
    return dict(created.json())


def question_ids(detail: dict[str, Any]) -> dict[str, str]:
    """Question number -> id."""
    return {q["number"]: q["id"] for p in detail["proposals"] for q in p["questions"]}


def submission(detail: dict[str, Any], **respondent: Any) -> dict[str, Any]:
    ids = question_ids(detail)
    return {
        "respondent": {"kind": "individual", "publication_consent": "publish", **respondent},
        "answers": [
            {"question_id": ids["1"], "text": "Helpful if there are strong safeguards."},
            {"question_id": ids["2"], "options": ["Agree"]},
            {"question_id": ids["4"], "options": ["Consent", "Oversight"]},
        ],
    }

"""Every API route is classified, and every protected one refuses the wrong callers.

A new route that is not listed in ROUTE_ACCESS fails `test_every_route_is_classified`, so
access rules cannot be forgotten.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from app.enums import Role
from tests.conftest import Users, bearer
from tests.factories import create_consultation

PUBLIC = "public"
ADMIN = "admin"
ANALYST_MEMBER = "analyst_member"  # admins, and analysts who are members of the consultation
# Tested in tests/test_exports.py: anyone once published; before, admins and analyst members.
PUBLISHED_OR_ANALYST = "published_or_analyst"
# Tested in tests/test_audit_log.py (the consultation is a query parameter or the response's):
MEMBER = "member"  # admins, and analysts or reviewers who are members of the consultation
# Exclusion and inclusion (app/responses/router.py; tested in tests/test_audit_log.py):
RESPONSE_ANALYST = "response_analyst"  # admins, and analysts of the response's consultation
# Tested in tests/test_jobs.py (the consultation is the run's):
RUN_MEMBER = "run_member"  # admins, and analysts or reviewers who are members of it
RUN_ANALYST = "run_analyst"  # admins, and analysts who are members of it
# Tested in tests/test_coding.py (the consultation is the codeframe's or the answer's):
REVIEWER_MEMBER = "reviewer_member"  # admins, analysts or reviewers who are members (read only)
CODEFRAME_ANALYST = "codeframe_analyst"  # admins, and analysts who are members
ANSWER_ANALYST = "answer_analyst"  # admins, and analysts of the answer's consultation
# Tested in tests/test_campaigns.py (the consultation is the slug's or the campaign's):
CAMPAIGN_MEMBER = "campaign_member"  # admins, analysts or reviewers who are members (read only)
# Tested in tests/test_samples.py (the consultation is the proposal's or the sample's):
SAMPLE_MEMBER = "sample_member"  # admins, analysts or reviewers who are members
# Tested in tests/test_challenges.py (the consultation is the slug's or the challenge's):
CHALLENGE_READER = "challenge_reader"  # admins, analysts or reviewers who are members
CHALLENGE_REVIEWER = "challenge_reviewer"  # admins, and reviewers who are members
CHALLENGE_ANALYST = "challenge_analyst"  # admins, and analysts who are members

ROUTE_ACCESS: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/api/v1/consultations"): PUBLIC,
    ("GET", "/api/v1/consultations/{slug}"): PUBLIC,
    ("POST", "/api/v1/consultations/{slug}/responses"): PUBLIC,
    ("GET", "/api/v1/consultations/{slug}/responses/{receipt_code}"): PUBLIC,
    ("POST", "/api/v1/consultations/{slug}/responses/{receipt_code}/withdraw"): PUBLIC,
    ("POST", "/api/v1/consultations"): ADMIN,
    ("PATCH", "/api/v1/consultations/{slug}"): ADMIN,
    ("POST", "/api/v1/consultations/{slug}/open"): ADMIN,
    ("POST", "/api/v1/consultations/{slug}/close"): ADMIN,
    ("POST", "/api/v1/consultations/{slug}/publish"): ADMIN,
    ("POST", "/api/v1/consultations/{slug}/proposals"): ADMIN,
    ("PATCH", "/api/v1/proposals/{proposal_id}"): ADMIN,
    ("POST", "/api/v1/proposals/{proposal_id}/questions"): ADMIN,
    ("PATCH", "/api/v1/questions/{question_id}"): ADMIN,
    ("POST", "/api/v1/consultations/{slug}/members"): ADMIN,
    ("POST", "/api/v1/consultations/{slug}/imports"): ANALYST_MEMBER,
    ("GET", "/api/v1/consultations/{slug}/exports/csv"): ANALYST_MEMBER,
    ("GET", "/api/v1/consultations/{slug}/exports/xlsx"): ANALYST_MEMBER,
    ("GET", "/api/v1/consultations/{slug}/exports/jsonl"): ANALYST_MEMBER,
    ("GET", "/api/v1/consultations/{slug}/exports/themefinder"): ANALYST_MEMBER,
    ("GET", "/api/v1/consultations/{slug}/exports/open-data"): PUBLISHED_OR_ANALYST,
    ("POST", "/api/v1/proposals/{proposal_id}/codeframes"): ANALYST_MEMBER,
    ("GET", "/api/v1/proposals/{proposal_id}/codeframes"): REVIEWER_MEMBER,
    ("GET", "/api/v1/codeframes/{codeframe_id}"): REVIEWER_MEMBER,
    ("POST", "/api/v1/codeframes/{codeframe_id}/themes"): CODEFRAME_ANALYST,
    ("PATCH", "/api/v1/codeframes/{codeframe_id}/themes/{code}"): CODEFRAME_ANALYST,
    ("POST", "/api/v1/codeframes/{codeframe_id}/publish"): CODEFRAME_ANALYST,
    ("PUT", "/api/v1/answers/{answer_id}/codes"): ANSWER_ANALYST,
    ("GET", "/api/v1/answers/{answer_id}/codes"): ANSWER_ANALYST,
    ("GET", "/api/v1/answers/{answer_id}/history"): ANSWER_ANALYST,
    ("GET", "/api/v1/proposals/{proposal_id}/themes/summary"): REVIEWER_MEMBER,
    ("GET", "/api/v1/proposals/{proposal_id}/themes/{code}/answers"): CODEFRAME_ANALYST,
    ("POST", "/api/v1/consultations/{slug}/runs"): ANALYST_MEMBER,
    ("GET", "/api/v1/consultations/{slug}/campaigns"): CAMPAIGN_MEMBER,
    ("GET", "/api/v1/campaigns/{campaign_id}"): CAMPAIGN_MEMBER,
    ("POST", "/api/v1/proposals/{proposal_id}/discover"): ANALYST_MEMBER,
    ("GET", "/api/v1/proposals/{proposal_id}/theme-suggestions"): REVIEWER_MEMBER,
    ("POST", "/api/v1/proposals/{proposal_id}/codeframes/from-suggestions"): ANALYST_MEMBER,
    ("POST", "/api/v1/proposals/{proposal_id}/runs"): ANALYST_MEMBER,
    ("GET", "/api/v1/proposals/{proposal_id}/review-queue"): ANALYST_MEMBER,
    ("GET", "/api/v1/proposals/{proposal_id}/suggested-answers"): ANALYST_MEMBER,
    ("POST", "/api/v1/proposals/{proposal_id}/audit-samples"): SAMPLE_MEMBER,
    ("GET", "/api/v1/proposals/{proposal_id}/audit-samples"): SAMPLE_MEMBER,
    ("GET", "/api/v1/proposals/{proposal_id}/audit-samples/size"): SAMPLE_MEMBER,
    ("GET", "/api/v1/audit-samples/{sample_id}"): SAMPLE_MEMBER,
    ("GET", "/api/v1/audit-samples/{sample_id}/items"): SAMPLE_MEMBER,
    ("GET", "/api/v1/audit-samples/{sample_id}/items/next"): SAMPLE_MEMBER,
    ("GET", "/api/v1/audit-samples/{sample_id}/items/{item_id}"): SAMPLE_MEMBER,
    ("PUT", "/api/v1/audit-samples/{sample_id}/items/{item_id}/review"): SAMPLE_MEMBER,
    ("GET", "/api/v1/audit-samples/{sample_id}/agreement"): SAMPLE_MEMBER,
    ("GET", "/api/v1/jobs/{id}"): RUN_MEMBER,
    ("POST", "/api/v1/jobs/{id}/retry"): RUN_ANALYST,
    ("GET", "/api/v1/audit/verify"): ADMIN,
    ("GET", "/api/v1/audit/head"): ADMIN,
    ("GET", "/api/v1/audit/events.jsonl"): MEMBER,
    ("POST", "/api/v1/responses/{response_id}/exclude"): RESPONSE_ANALYST,
    ("POST", "/api/v1/responses/{response_id}/include"): RESPONSE_ANALYST,
    ("GET", "/api/v1/consultations/{slug}/challenges"): CHALLENGE_READER,
    ("GET", "/api/v1/consultations/{slug}/challenges/summary"): CHALLENGE_READER,
    ("POST", "/api/v1/consultations/{slug}/challenges"): CHALLENGE_REVIEWER,
    ("GET", "/api/v1/challenges/{challenge_id}"): CHALLENGE_READER,
    ("POST", "/api/v1/challenges/{challenge_id}/messages"): CHALLENGE_READER,
    ("POST", "/api/v1/challenges/{challenge_id}/withdraw"): CHALLENGE_REVIEWER,
    ("POST", "/api/v1/challenges/{challenge_id}/accept"): CHALLENGE_ANALYST,
    ("POST", "/api/v1/challenges/{challenge_id}/reject"): CHALLENGE_ANALYST,
}


def api_routes(app: Any) -> set[tuple[str, str]]:
    # FastAPI 0.165 keeps included routers as branches in app.routes: flatten them, or only
    # /healthz would be seen and the check would pass whatever was unclassified.
    try:
        from fastapi.routing import iter_route_contexts

        routes: list[Any] = list(iter_route_contexts(app.routes))
    except ImportError:  # older FastAPI lists every route flat
        routes = list(app.routes)
    found = set()
    for route in routes:
        original = getattr(route, "original_route", route)
        if isinstance(original, APIRoute) and route.include_in_schema:
            for method in route.methods - {"HEAD"}:
                found.add((method, route.path))
    assert ("GET", "/api/v1/consultations") in found, "the route listing misses included routers"
    return found


def test_every_route_is_classified(app_instance: Any) -> None:
    unclassified = api_routes(app_instance) - set(ROUTE_ACCESS)
    assert not unclassified, (
        f"Add these routes to ROUTE_ACCESS with their access rule: {sorted(unclassified)}"
    )


def fill(path: str, detail: dict[str, Any]) -> str:
    values = {
        "slug": detail["slug"],
        "proposal_id": detail["proposals"][0]["id"],
        "question_id": detail["proposals"][0]["questions"][0]["id"],
        "receipt_code": "0000-0000-0000",
        "id": "00000000-0000-0000-0000-000000000000",
    }
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def protected(rule: str) -> list[tuple[str, str]]:
    return sorted(key for key, value in ROUTE_ACCESS.items() if value == rule)


@pytest.fixture
async def two_consultations(client: httpx.AsyncClient, users: Users) -> dict[str, Any]:
    admin = await users.token(Role.admin)
    mine = await create_consultation(client, admin, "mine")
    await create_consultation(client, admin, "theirs")
    return mine


@pytest.mark.parametrize(
    ("method", "path"),
    protected(ADMIN) + protected(ANALYST_MEMBER) + protected(RUN_MEMBER) + protected(RUN_ANALYST),
)
async def test_missing_or_bad_token_is_401(
    client: httpx.AsyncClient, two_consultations: dict[str, Any], method: str, path: str
) -> None:
    url = fill(path, two_consultations)
    assert (await client.request(method, url, json={})).status_code == 401
    bad = await client.request(method, url, json={}, headers=bearer("cst_not-a-real-token"))
    assert bad.status_code == 401 and bad.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(("method", "path"), protected(ADMIN))
async def test_admin_routes_refuse_other_roles(
    client: httpx.AsyncClient,
    users: Users,
    two_consultations: dict[str, Any],
    method: str,
    path: str,
) -> None:
    url = fill(path, two_consultations)
    for role in (Role.analyst, Role.reviewer):
        token = await users.token(role, member_of=["mine"])
        response = await client.request(method, url, json={}, headers=bearer(token))
        assert response.status_code == 403, (role, response.text)
        assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize(("method", "path"), protected(ANALYST_MEMBER))
async def test_analyst_routes_refuse_reviewers_and_other_consultations(
    client: httpx.AsyncClient,
    users: Users,
    two_consultations: dict[str, Any],
    method: str,
    path: str,
) -> None:
    url = fill(path, two_consultations)
    reviewer = await users.token(Role.reviewer, member_of=["mine"])
    assert (await client.request(method, url, headers=bearer(reviewer))).status_code == 403
    outsider = await users.token(Role.analyst, member_of=["theirs"])
    response = await client.request(method, url, headers=bearer(outsider))
    assert response.status_code == 403 and response.json()["code"] == "forbidden"

"""The agreement dashboard page checks access once, and still refuses outsiders."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import Role
from app.samples import service
from tests.conftest import Users, bearer
from tests.test_samples import SLUG, AuditWorld, make_audit_world


@pytest.fixture
async def aw(client: httpx.AsyncClient, users: Users, session: AsyncSession) -> AuditWorld:
    return await make_audit_world(client, users, session)


async def test_agreement_page_checks_access_once(
    aw: AuditWorld, users: Users, monkeypatch: pytest.MonkeyPatch
) -> None:
    sample_id = (await aw.draw(size=6, seed=3)).json()["id"]
    checks: list[str] = []
    real = service.require_access

    async def counted(*args: Any, **kwargs: Any) -> Any:
        checks.append(kwargs.get("action", ""))
        return await real(*args, **kwargs)

    monkeypatch.setattr(service, "require_access", counted)
    reviewer = await users.token(Role.reviewer, member_of=[SLUG])
    page = await aw.client.get(f"/audit/samples/{sample_id}/agreement", headers=bearer(reviewer))
    assert page.status_code == 200, page.text
    assert "<title>Agreement:" in page.text
    assert len(checks) == 1, checks

    checks.clear()
    outsider = await users.token(Role.reviewer)
    refused = await aw.client.get(f"/audit/samples/{sample_id}/agreement", headers=bearer(outsider))
    assert refused.status_code in (403, 404)
    assert len(checks) == 1, checks

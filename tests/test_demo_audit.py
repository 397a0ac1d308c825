"""The demo's audit sample: drawn on the open consultation, reviewed blind by two reviewers."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.audit import DEMO_REVIEWERS, load_demo_audit
from app.demo.content import build_demo
from app.demo.loader import load_demo
from app.samples.models import AuditSample, Review
from app.users.models import User
from app.users.service import issue_token
from tests.conftest import bearer


async def test_demo_has_a_reviewed_audit_sample(
    session: AsyncSession, client: httpx.AsyncClient
) -> None:
    summary = await load_demo(session)
    assert "audit sample of" in summary, summary
    again = await load_demo_audit(session, build_demo(2016))
    assert "already drawn" in again
    await session.commit()
    samples = list(await session.scalars(select(AuditSample)))
    assert len(samples) == 1
    sample = samples[0]
    assert sample.design == "stratified" and sample.stratify_by == "confidence_band"
    reviewer = await session.scalar(select(User).where(User.email == DEMO_REVIEWERS[0]))
    assert reviewer is not None
    headers = bearer(await issue_token(session, user_id=reviewer.id))
    await session.commit()
    reviewers = await session.scalar(
        select(func.count(func.distinct(Review.reviewer_id))).where(Review.sample_id == sample.id)
    )
    assert reviewers == 2

    agreement = await client.get(f"/api/v1/audit-samples/{sample.id}/agreement", headers=headers)
    assert agreement.status_code == 200, agreement.text
    body = agreement.json()
    assert body["reviewers"] == ["Reviewer 1", "Reviewer 2"]
    kappa = body["among_reviewers"]["overall"]["cohen_kappa"]
    assert kappa["value"] is not None and kappa["low"] <= kappa["value"] <= kappa["high"]
    assert body["error_rate"]["overall"]["value"] is not None
    print(
        "demo audit:",
        {
            "kappa_among_reviewers": kappa,
            "current_vs_reviewers_micro_f1": body["current_vs_reviewers"]["micro"]["f1"],
            "error_rate": body["error_rate"]["overall"],
        },
    )
    # Items are left for a visitor signed in as the demo reviewer to code blind.
    nxt = await client.get(f"/api/v1/audit-samples/{sample.id}/items/next", headers=headers)
    assert nxt.status_code == 200 and nxt.json()["blind"] is True

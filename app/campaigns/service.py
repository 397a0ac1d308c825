"""Campaigns of a consultation: listing them and reading one with its members.

Campaigns are written by `dedupe` runs (app/campaigns/runs.py); analysts start one with
`POST /api/v1/consultations/{slug}/runs` (`{"kind": "dedupe"}`) or `consult analyse dedupe`.
Everything shown here is redacted text, so reviewers who are members may read it.
"""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.campaigns.models import Campaign
from app.campaigns.schemas import CampaignDetail, CampaignMember, CampaignOut
from app.consultations.models import Consultation
from app.consultations.service import require_access
from app.enums import Role
from app.errors import NotFound
from app.users.models import User

# A member's text as the dedupe run read it: its open-text answers, redacted, in order.
MEMBER_TEXTS_SQL = text(
    """
    SELECT r.id, coalesce(string_agg(a.redacted_text, E'\\n\\n' ORDER BY p.position, q.position)
        FILTER (WHERE q.kind = 'open_text' AND coalesce(btrim(a.redacted_text), '') <> ''),
        '') AS text
    FROM responses r
    LEFT JOIN answers a ON a.response_id = r.id
    LEFT JOIN questions q ON q.id = a.question_id
    LEFT JOIN proposals p ON p.id = q.proposal_id
    WHERE r.campaign_id = :campaign_id
    GROUP BY r.id
    ORDER BY r.id OFFSET :offset LIMIT :limit
    """
)


def _out(campaign: Campaign) -> CampaignOut:
    return CampaignOut(
        id=campaign.id,
        label=campaign.label,
        template_text=campaign.template_text,
        member_count=campaign.member_count,
        run_id=campaign.run_id,
        created_at=campaign.created_at,
    )


async def _readable(
    session: AsyncSession, consultation: Consultation | None, user: User | None, missing: str
) -> Consultation:
    if consultation is None:
        raise NotFound(missing)
    await require_access(
        session,
        consultation=consultation,
        user=user,
        roles=(Role.analyst, Role.reviewer),
        action="read its campaigns",
        missing=missing,
    )
    return consultation


async def list_campaigns(
    session: AsyncSession, *, slug: str, user: User | None
) -> list[CampaignOut]:
    consultation = await session.scalar(select(Consultation).where(Consultation.slug == slug))
    consultation = await _readable(session, consultation, user, "No such consultation.")
    campaigns = await session.scalars(
        select(Campaign)
        .where(Campaign.consultation_id == consultation.id)
        .order_by(Campaign.member_count.desc(), Campaign.label, Campaign.id)
    )
    return [_out(c) for c in campaigns]


async def get_campaign(
    session: AsyncSession, *, campaign_id: uuid.UUID, user: User | None, offset: int, limit: int
) -> CampaignDetail:
    from analysis.campaigns import added_text

    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("No such campaign.")
    consultation = await session.get(Consultation, campaign.consultation_id)
    await _readable(session, consultation, user, "No such campaign.")
    rows = (
        await session.execute(
            MEMBER_TEXTS_SQL, {"campaign_id": campaign.id, "offset": offset, "limit": limit}
        )
    ).all()
    template = campaign.template_text

    def additions() -> list[str]:
        return [added_text(template, row.text) for row in rows]

    added = await asyncio.to_thread(additions)
    members = [
        CampaignMember(response_id=row.id, added_text=extra)
        for row, extra in zip(rows, added, strict=True)
    ]
    return CampaignDetail(
        **_out(campaign).model_dump(), members=members, offset=offset, limit=limit
    )

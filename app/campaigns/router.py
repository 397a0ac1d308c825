"""Campaigns over the API (found by `dedupe` runs; start one at .../runs with kind dedupe)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.campaigns import service
from app.campaigns.schemas import CampaignDetail, CampaignOut
from app.db import SessionDep
from app.users.dependencies import StaffUser

router = APIRouter(prefix="/api/v1", tags=["campaigns"])


@router.get(
    "/consultations/{slug}/campaigns",
    response_model=list[CampaignOut],
    summary="Campaigns of the latest dedupe run: template (redacted), member count, label",
    description=(
        "Start a dedupe run with POST /api/v1/consultations/{slug}/runs "
        '`{"kind": "dedupe"}`. Members of the consultation, reviewers included, may read.'
    ),
)
async def list_campaigns(slug: str, session: SessionDep, user: StaffUser) -> list[CampaignOut]:
    return await service.list_campaigns(session, slug=slug, user=user)


@router.get(
    "/campaigns/{campaign_id}",
    response_model=CampaignDetail,
    summary="A campaign with its members and what each added to the template (redacted)",
)
async def get_campaign(
    campaign_id: uuid.UUID,
    session: SessionDep,
    user: StaffUser,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> CampaignDetail:
    return await service.get_campaign(
        session, campaign_id=campaign_id, user=user, offset=offset, limit=limit
    )

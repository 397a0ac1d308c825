from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Response, status

from app.db import SessionDep
from app.samples import service
from app.samples.schemas import (
    AgreementOut,
    ItemSummary,
    ItemView,
    ReviewIn,
    SampleCreate,
    SampleOut,
    SampleSizeOut,
)
from app.users.dependencies import StaffUser

router = APIRouter(prefix="/api/v1", tags=["audit samples"])


@router.post(
    "/proposals/{proposal_id}/audit-samples",
    response_model=SampleOut,
    status_code=status.HTTP_201_CREATED,
    summary="Draw a reproducible audit sample (simple or stratified; by size or target margin)",
)
async def draw_sample(
    proposal_id: uuid.UUID, data: SampleCreate, session: SessionDep, user: StaffUser
) -> SampleOut:
    return await service.draw_sample(session, proposal_id=proposal_id, user=user, data=data)


@router.get(
    "/proposals/{proposal_id}/audit-samples/size",
    response_model=SampleSizeOut,
    summary="Sample size for a target margin of error on a coding error rate",
)
async def sample_size(
    proposal_id: uuid.UUID,
    session: SessionDep,
    user: StaffUser,
    margin: float = Query(gt=0, lt=1),
    confidence: float = Query(0.95, gt=0, lt=1),
    expected_rate: float = Query(0.5, ge=0, le=1),
) -> SampleSizeOut:
    return await service.sample_size(
        session,
        proposal_id=proposal_id,
        user=user,
        margin=margin,
        confidence=confidence,
        expected_rate=expected_rate,
    )


@router.get("/proposals/{proposal_id}/audit-samples", response_model=list[SampleOut])
async def list_samples(
    proposal_id: uuid.UUID, session: SessionDep, user: StaffUser
) -> list[SampleOut]:
    return await service.list_samples(session, proposal_id=proposal_id, user=user)


@router.get("/audit-samples/{sample_id}", response_model=SampleOut)
async def get_sample(sample_id: uuid.UUID, session: SessionDep, user: StaffUser) -> SampleOut:
    return await service.get_sample(session, sample_id=sample_id, user=user)


@router.get("/audit-samples/{sample_id}/items", response_model=list[ItemSummary])
async def list_items(
    sample_id: uuid.UUID, session: SessionDep, user: StaffUser
) -> list[ItemSummary]:
    return await service.list_items(session, sample_id=sample_id, user=user)


@router.get(
    "/audit-samples/{sample_id}/items/next",
    response_model=ItemView,
    responses={204: {"description": "You have reviewed every item"}},
    summary="Your next item to review (blind: no current codes until you submit)",
)
async def next_item(sample_id: uuid.UUID, session: SessionDep, user: StaffUser) -> object:
    view = await service.next_item(session, sample_id=sample_id, user=user)
    return view if view is not None else Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/audit-samples/{sample_id}/items/{item_id}",
    response_model=ItemView,
    summary="An item: blind for a reviewer who has not reviewed it, else with the comparison",
)
async def get_item(
    sample_id: uuid.UUID, item_id: uuid.UUID, session: SessionDep, user: StaffUser
) -> ItemView:
    return await service.get_item(session, sample_id=sample_id, item_id=item_id, user=user)


@router.put(
    "/audit-samples/{sample_id}/items/{item_id}/review",
    response_model=ItemView,
    summary="Submit your blind review of an item (final once submitted); returns the comparison",
)
async def submit_review(
    sample_id: uuid.UUID,
    item_id: uuid.UUID,
    data: ReviewIn,
    session: SessionDep,
    user: StaffUser,
) -> ItemView:
    return await service.submit_review(
        session, sample_id=sample_id, item_id=item_id, user=user, data=data
    )


@router.get(
    "/audit-samples/{sample_id}/agreement",
    response_model=AgreementOut,
    summary="Agreement per theme and overall, current codes vs reviewers, error rates",
)
async def agreement(sample_id: uuid.UUID, session: SessionDep, user: StaffUser) -> AgreementOut:
    return await service.agreement(session, sample_id=sample_id, user=user)

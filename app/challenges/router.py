from __future__ import annotations

import uuid

from fastapi import APIRouter

from app.challenges import service
from app.challenges.models import ChallengeKind, ChallengeStatus
from app.challenges.schemas import (
    AcceptIn,
    ChallengeDetail,
    ChallengeIn,
    ChallengeOut,
    ChallengeSummary,
    MessageIn,
    RejectIn,
    WithdrawIn,
)
from app.db import SessionDep
from app.users.dependencies import StaffUser

router = APIRouter(prefix="/api/v1", tags=["challenges"])


@router.get(
    "/consultations/{slug}/challenges",
    response_model=list[ChallengeOut],
    summary="Every challenge of the consultation (reviewers and analysts who are members)",
)
async def list_challenges(
    slug: str,
    session: SessionDep,
    user: StaffUser,
    status: ChallengeStatus | None = None,
    kind: ChallengeKind | None = None,
    proposal_id: uuid.UUID | None = None,
) -> list[ChallengeOut]:
    return await service.list_challenges(
        session, slug=slug, user=user, status=status, kind=kind, proposal_id=proposal_id
    )


@router.get(
    "/consultations/{slug}/challenges/summary",
    response_model=ChallengeSummary,
    summary="Counts of challenges by status: overall, per kind and per proposal",
)
async def challenge_summary(slug: str, session: SessionDep, user: StaffUser) -> ChallengeSummary:
    return await service.summary(session, slug=slug, user=user)


@router.post(
    "/consultations/{slug}/challenges",
    response_model=ChallengeDetail,
    status_code=201,
    summary="Raise a challenge against a coding, a theme definition or a reported figure",
)
async def raise_challenge(
    slug: str, data: ChallengeIn, session: SessionDep, user: StaffUser
) -> ChallengeDetail:
    return await service.raise_challenge(session, slug=slug, user=user, data=data)


@router.get("/challenges/{challenge_id}", response_model=ChallengeDetail)
async def get_challenge(
    challenge_id: uuid.UUID, session: SessionDep, user: StaffUser
) -> ChallengeDetail:
    return await service.get_challenge(session, challenge_id=challenge_id, user=user)


@router.post(
    "/challenges/{challenge_id}/messages",
    response_model=ChallengeDetail,
    status_code=201,
    summary="Reply in the challenge's thread (also after it was decided)",
)
async def add_message(
    challenge_id: uuid.UUID, data: MessageIn, session: SessionDep, user: StaffUser
) -> ChallengeDetail:
    return await service.add_message(session, challenge_id=challenge_id, user=user, data=data)


@router.post(
    "/challenges/{challenge_id}/withdraw",
    response_model=ChallengeDetail,
    summary="Withdraw an open challenge (the reviewer who raised it)",
)
async def withdraw(
    challenge_id: uuid.UUID, session: SessionDep, user: StaffUser, data: WithdrawIn | None = None
) -> ChallengeDetail:
    return await service.withdraw(
        session, challenge_id=challenge_id, user=user, data=data or WithdrawIn()
    )


@router.post(
    "/challenges/{challenge_id}/accept",
    response_model=ChallengeDetail,
    summary="Accept an open challenge and apply its change (analysts)",
)
async def accept(
    challenge_id: uuid.UUID, session: SessionDep, user: StaffUser, data: AcceptIn | None = None
) -> ChallengeDetail:
    return await service.accept(
        session, challenge_id=challenge_id, user=user, data=data or AcceptIn()
    )


@router.post(
    "/challenges/{challenge_id}/reject",
    response_model=ChallengeDetail,
    summary="Reject an open challenge with a reason (analysts)",
)
async def reject(
    challenge_id: uuid.UUID, data: RejectIn, session: SessionDep, user: StaffUser
) -> ChallengeDetail:
    return await service.reject(session, challenge_id=challenge_id, user=user, data=data)

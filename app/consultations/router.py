from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from app.consultations import service
from app.consultations.schemas import (
    ConsultationCreate,
    ConsultationDetail,
    ConsultationSummary,
    ConsultationUpdate,
    MemberIn,
    ProposalIn,
    ProposalOut,
    ProposalUpdate,
    QuestionIn,
    QuestionOut,
    QuestionUpdate,
)
from app.db import SessionDep
from app.users.dependencies import AdminUser, OptionalUser

router = APIRouter(prefix="/api/v1", tags=["consultations"])


@router.get("/consultations", response_model=list[ConsultationSummary])
async def list_consultations(session: SessionDep, user: OptionalUser) -> list[object]:
    return list(await service.list_consultations(session, user=user))


@router.get("/consultations/{slug}", response_model=ConsultationDetail)
async def get_consultation(
    slug: str, session: SessionDep, user: OptionalUser
) -> ConsultationDetail:
    return await service.get_detail(session, slug=slug, user=user)


@router.post(
    "/consultations", response_model=ConsultationDetail, status_code=status.HTTP_201_CREATED
)
async def create_consultation(
    data: ConsultationCreate, session: SessionDep, _: AdminUser
) -> ConsultationDetail:
    return await service.create_consultation(session, data=data)


@router.patch("/consultations/{slug}", response_model=ConsultationDetail)
async def update_consultation(
    slug: str, data: ConsultationUpdate, session: SessionDep, _: AdminUser
) -> ConsultationDetail:
    return await service.update_consultation(session, slug=slug, data=data)


@router.post(
    "/consultations/{slug}/proposals",
    response_model=ProposalOut,
    status_code=status.HTTP_201_CREATED,
)
async def add_proposal(
    slug: str, data: ProposalIn, session: SessionDep, _: AdminUser
) -> ProposalOut:
    return await service.add_proposal(session, slug=slug, data=data)


@router.patch("/proposals/{proposal_id}", response_model=ProposalOut)
async def update_proposal(
    proposal_id: uuid.UUID, data: ProposalUpdate, session: SessionDep, _: AdminUser
) -> ProposalOut:
    return await service.update_proposal(session, proposal_id=proposal_id, data=data)


@router.post(
    "/proposals/{proposal_id}/questions",
    response_model=QuestionOut,
    status_code=status.HTTP_201_CREATED,
)
async def add_question(
    proposal_id: uuid.UUID, data: QuestionIn, session: SessionDep, _: AdminUser
) -> QuestionOut:
    return await service.add_question(session, proposal_id=proposal_id, data=data)


@router.patch("/questions/{question_id}", response_model=QuestionOut)
async def update_question(
    question_id: uuid.UUID, data: QuestionUpdate, session: SessionDep, _: AdminUser
) -> QuestionOut:
    return await service.update_question(session, question_id=question_id, data=data)


@router.post("/consultations/{slug}/members", status_code=status.HTTP_204_NO_CONTENT)
async def add_member(slug: str, data: MemberIn, session: SessionDep, _: AdminUser) -> None:
    await service.add_member(session, slug=slug, email=data.email)


@router.post("/consultations/{slug}/open", response_model=ConsultationDetail)
async def open_consultation(slug: str, session: SessionDep, _: AdminUser) -> ConsultationDetail:
    return await service.change_status(session, slug=slug, action="open")


@router.post("/consultations/{slug}/close", response_model=ConsultationDetail)
async def close_consultation(slug: str, session: SessionDep, _: AdminUser) -> ConsultationDetail:
    return await service.change_status(session, slug=slug, action="close")


@router.post("/consultations/{slug}/publish", response_model=ConsultationDetail)
async def publish_consultation(slug: str, session: SessionDep, _: AdminUser) -> ConsultationDetail:
    return await service.change_status(session, slug=slug, action="publish")

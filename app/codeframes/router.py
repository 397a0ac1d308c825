from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from app.codeframes import service
from app.codeframes.schemas import (
    CodeframeCreate,
    CodeframeOut,
    CodeframeSummary,
    ThemeIn,
    ThemeUpdate,
)
from app.db import SessionDep
from app.users.dependencies import AnalystUser, StaffUser

router = APIRouter(prefix="/api/v1", tags=["codeframes"])


@router.post(
    "/proposals/{proposal_id}/codeframes",
    response_model=CodeframeOut,
    status_code=status.HTTP_201_CREATED,
    summary="New draft version: empty, from themes, or based_on the published one + operations",
)
async def create_codeframe(
    proposal_id: uuid.UUID,
    session: SessionDep,
    user: AnalystUser,
    data: CodeframeCreate | None = None,
) -> CodeframeOut:
    return await service.create_codeframe(
        session, proposal_id=proposal_id, user=user, data=data or CodeframeCreate()
    )


@router.get("/proposals/{proposal_id}/codeframes", response_model=list[CodeframeSummary])
async def list_codeframes(
    proposal_id: uuid.UUID, session: SessionDep, user: StaffUser
) -> list[CodeframeSummary]:
    return await service.list_codeframes(session, proposal_id=proposal_id, user=user)


@router.get("/codeframes/{codeframe_id}", response_model=CodeframeOut)
async def get_codeframe(
    codeframe_id: uuid.UUID, session: SessionDep, user: StaffUser
) -> CodeframeOut:
    return await service.get_codeframe(session, codeframe_id=codeframe_id, user=user)


@router.post(
    "/codeframes/{codeframe_id}/themes",
    response_model=CodeframeOut,
    status_code=status.HTTP_201_CREATED,
)
async def add_theme(
    codeframe_id: uuid.UUID, data: ThemeIn, session: SessionDep, user: AnalystUser
) -> CodeframeOut:
    return await service.add_theme(session, codeframe_id=codeframe_id, user=user, data=data)


@router.patch("/codeframes/{codeframe_id}/themes/{code}", response_model=CodeframeOut)
async def update_theme(
    codeframe_id: uuid.UUID, code: str, data: ThemeUpdate, session: SessionDep, user: AnalystUser
) -> CodeframeOut:
    return await service.update_theme(
        session, codeframe_id=codeframe_id, code=code, user=user, data=data
    )


@router.post("/codeframes/{codeframe_id}/publish", response_model=CodeframeOut)
async def publish_codeframe(
    codeframe_id: uuid.UUID, session: SessionDep, user: AnalystUser
) -> CodeframeOut:
    return await service.publish(session, codeframe_id=codeframe_id, user=user)

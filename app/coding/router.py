from __future__ import annotations

import uuid

from fastapi import APIRouter

from app.coding import service
from app.coding.schemas import AnswerCodesOut, AnswerHistoryOut, CodesIn
from app.db import SessionDep
from app.users.dependencies import AnalystUser

router = APIRouter(prefix="/api/v1/answers/{answer_id}", tags=["coding"])


@router.put(
    "/codes",
    response_model=AnswerCodesOut,
    summary="Code an answer by hand (supersedes earlier decisions, never updates them)",
)
async def set_codes(
    answer_id: uuid.UUID, data: CodesIn, session: SessionDep, user: AnalystUser
) -> AnswerCodesOut:
    return await service.set_codes(session, answer_id=answer_id, user=user, data=data)


@router.get("/codes", response_model=AnswerCodesOut)
async def get_codes(
    answer_id: uuid.UUID,
    session: SessionDep,
    user: AnalystUser,
    codeframe_id: uuid.UUID | None = None,
) -> AnswerCodesOut:
    return await service.current_codes(
        session, answer_id=answer_id, user=user, codeframe_id=codeframe_id
    )


@router.get("/history", response_model=AnswerHistoryOut)
async def get_history(
    answer_id: uuid.UUID, session: SessionDep, user: AnalystUser
) -> AnswerHistoryOut:
    return await service.history(session, answer_id=answer_id, user=user)

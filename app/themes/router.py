from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.db import SessionDep
from app.themes import service
from app.themes.schemas import AnswersPage, Filters, ThemeSummaryOut
from app.users.dependencies import StaffUser

router = APIRouter(prefix="/api/v1/proposals/{proposal_id}/themes", tags=["themes"])

FiltersQuery = Annotated[Filters, Query()]
Version = Annotated[
    int | None, Query(ge=1, description="codeframe version (default: the published one)")
]


@router.get(
    "/summary",
    response_model=ThemeSummaryOut,
    summary="Each theme's count and share of the proposal's answers, with filters",
)
async def theme_summary(
    proposal_id: uuid.UUID,
    session: SessionDep,
    user: StaffUser,
    filters: FiltersQuery,
    version: Version = None,
) -> ThemeSummaryOut:
    return await service.summary(
        session, proposal_id=proposal_id, user=user, filters=filters, version=version
    )


@router.get(
    "/{code}/answers",
    response_model=AnswersPage,
    summary="Redacted answers coded with a theme, with the coding's confidence and evidence",
)
async def theme_answers(
    proposal_id: uuid.UUID,
    code: str,
    session: SessionDep,
    user: StaffUser,
    filters: FiltersQuery,
    version: Version = None,
    q: Annotated[
        str | None, Query(max_length=200, description="text in the redacted answer")
    ] = None,
    after: Annotated[
        uuid.UUID | None, Query(description="next_cursor of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> AnswersPage:
    return await service.answers(
        session,
        proposal_id=proposal_id,
        user=user,
        filters=filters,
        code=code,
        version=version,
        q=q or None,
        after=after,
        limit=limit,
    )

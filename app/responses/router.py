from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, status

from app.config import get_settings
from app.db import SessionDep
from app.enums import Channel
from app.ratelimit import check_submission_rate
from app.responses import service
from app.responses.schemas import (
    ExcludeIn,
    OwnResponse,
    Receipt,
    ResponseStatusOut,
    SecretIn,
    SubmissionIn,
)
from app.users.dependencies import AnalystUser

router = APIRouter(prefix="/api/v1", tags=["responses"])


@router.post(
    "/consultations/{slug}/responses",
    response_model=Receipt,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(check_submission_rate)],
    summary="Submit a response (public)",
)
async def submit_response(
    slug: str,
    data: SubmissionIn,
    session: SessionDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Receipt:
    return await service.submit_response(
        session,
        slug=slug,
        data=data,
        channel=Channel.api,
        max_answer_chars=get_settings().max_answer_chars,
        idempotency_key=idempotency_key,
    )


@router.get(
    "/consultations/{slug}/responses/{receipt_code}",
    response_model=OwnResponse,
    summary="View your own response",
)
async def view_response(
    slug: str, receipt_code: str, secret: Annotated[str, Query(max_length=200)], session: SessionDep
) -> OwnResponse:
    return await service.view_own_response(
        session, slug=slug, receipt_code=receipt_code, secret=secret
    )


@router.post(
    "/consultations/{slug}/responses/{receipt_code}/withdraw",
    response_model=OwnResponse,
    summary="Withdraw your own response",
)
async def withdraw_response(
    slug: str, receipt_code: str, data: SecretIn, session: SessionDep
) -> OwnResponse:
    return await service.withdraw_own_response(
        session, slug=slug, receipt_code=receipt_code, secret=data.secret
    )


@router.post(
    "/responses/{response_id}/exclude",
    response_model=ResponseStatusOut,
    summary="Exclude a response from analysis, with a reason (logged)",
)
async def exclude_response(
    response_id: uuid.UUID, data: ExcludeIn, session: SessionDep, user: AnalystUser
) -> ResponseStatusOut:
    change = await service.exclude_response(
        session, response_id=response_id, reason=data.reason, user=user
    )
    return ResponseStatusOut(**asdict(change))


@router.post(
    "/responses/{response_id}/include",
    response_model=ResponseStatusOut,
    summary="Undo an exclusion (logged)",
)
async def include_response(
    response_id: uuid.UUID, session: SessionDep, user: AnalystUser
) -> ResponseStatusOut:
    change = await service.include_response(session, response_id=response_id, user=user)
    return ResponseStatusOut(**asdict(change))

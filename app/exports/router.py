"""Exports: one GET route per format, streamed (see app/exports/service.py for the contents)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import SessionDep
from app.exports import service
from app.users.dependencies import AnalystUser, OptionalUser
from app.users.models import User

router = APIRouter(prefix="/api/v1", tags=["exports"])

ProposalQuery = Annotated[
    uuid.UUID | None, Query(description="Only this proposal's answers (its id).")
]


def _stream(request: Request, target: service.ExportTarget) -> StreamingResponse:
    # The request's session is closed once the endpoint returns; the stream reads with its own.
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker

    async def body() -> AsyncIterator[bytes]:
        async with sessionmaker() as stream_session:
            async for chunk in service.stream_bytes(stream_session, target):
                yield chunk

    return StreamingResponse(
        body(),
        media_type=service.MEDIA_TYPES[target.format],
        headers={"Content-Disposition": f'attachment; filename="{target.filename}"'},
    )


async def _analyst_export(
    fmt: str,
    slug: str,
    request: Request,
    session: AsyncSession,
    user: User,
    proposal: uuid.UUID | None,
) -> StreamingResponse:
    target = await service.authorise(session, slug=slug, fmt=fmt, user=user, proposal_id=proposal)
    return _stream(request, target)


ANALYST_DESCRIPTION = (
    "One row per answer: redacted text, chosen options, current codes in the proposal's "
    "published codeframe version, the response's stance, campaign, status and the "
    "respondent's kind, organisation and region (never names or emails). Admins and "
    "analysts of the consultation."
)


@router.get(
    "/consultations/{slug}/exports/csv",
    response_class=StreamingResponse,
    summary="Export answers and their codes as CSV",
    description=ANALYST_DESCRIPTION + " Cells that could start a formula are neutralised.",
)
async def export_csv(
    slug: str,
    request: Request,
    session: SessionDep,
    user: AnalystUser,
    proposal: ProposalQuery = None,
) -> StreamingResponse:
    return await _analyst_export("csv", slug, request, session, user, proposal)


@router.get(
    "/consultations/{slug}/exports/xlsx",
    response_class=StreamingResponse,
    summary="Export answers and their codes as XLSX",
    description=ANALYST_DESCRIPTION + " Cells that could start a formula are neutralised.",
)
async def export_xlsx(
    slug: str,
    request: Request,
    session: SessionDep,
    user: AnalystUser,
    proposal: ProposalQuery = None,
) -> StreamingResponse:
    return await _analyst_export("xlsx", slug, request, session, user, proposal)


@router.get(
    "/consultations/{slug}/exports/jsonl",
    response_class=StreamingResponse,
    summary="Export answers and their codes as JSONL",
    description=ANALYST_DESCRIPTION,
)
async def export_jsonl(
    slug: str,
    request: Request,
    session: SessionDep,
    user: AnalystUser,
    proposal: ProposalQuery = None,
) -> StreamingResponse:
    return await _analyst_export("jsonl", slug, request, session, user, proposal)


@router.get(
    "/consultations/{slug}/exports/themefinder",
    response_class=StreamingResponse,
    summary="Export in the Consult/ThemeFinder layout (zip)",
    description=(
        "inputs/question_part_N/{question.json,responses.jsonl}, inputs/respondents.jsonl and "
        "outputs/mapping/<date>/question_part_N/{themes.json,mapping.jsonl,sentiment.jsonl}; "
        "received responses only; re-imports with `consult import`. Admins and analysts."
    ),
)
async def export_themefinder(
    slug: str,
    request: Request,
    session: SessionDep,
    user: AnalystUser,
    proposal: ProposalQuery = None,
) -> StreamingResponse:
    return await _analyst_export("themefinder", slug, request, session, user, proposal)


@router.get(
    "/consultations/{slug}/exports/open-data",
    response_class=StreamingResponse,
    summary="Open data (CSV) for the public",
    description=(
        "Public once the consultation is published (before: its admins and analysts). "
        "No personal data and no linkable ids; the text only of respondents who consented "
        "to publication; organisation names only where they consented to be named."
    ),
)
async def export_open_data(
    slug: str,
    request: Request,
    session: SessionDep,
    user: OptionalUser,
    proposal: ProposalQuery = None,
) -> StreamingResponse:
    target = await service.authorise(
        session, slug=slug, fmt="open-data", user=user, proposal_id=proposal
    )
    return _stream(request, target)

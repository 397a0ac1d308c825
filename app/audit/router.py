"""The audit log's API: verify the chain, export it as JSONL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import service
from app.audit.schemas import BadEvent, HeadOut, VerifyOut
from app.db import SessionDep
from app.users.dependencies import AdminUser, StaffUser

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit/verify", response_model=VerifyOut, summary="Check the audit log's hash chain")
async def verify(session: SessionDep, _: AdminUser) -> VerifyOut:
    result = await service.verify_chain(session)
    bad = None
    if result.first_bad_seq is not None and result.first_bad_id is not None:
        bad = BadEvent(seq=result.first_bad_seq, id=result.first_bad_id, reason=result.reason or "")
    return VerifyOut(
        ok=result.ok,
        events_checked=result.events_checked,
        first_bad=bad,
        last_seq=result.last_seq,
        last_hash=result.last_hash,
    )


@router.get(
    "/audit/head",
    response_model=HeadOut,
    summary="The audit log's latest seq and hash, to publish outside the database",
)
async def head(session: SessionDep, _: AdminUser) -> HeadOut:
    found = await service.chain_head(session)
    if found is None:
        return HeadOut(seq=None, hash=None, occurred_at=None)
    return HeadOut(seq=found.seq, hash=found.hash, occurred_at=found.occurred_at, anchor=str(found))


@router.get(
    "/audit/events.jsonl",
    response_class=StreamingResponse,
    summary="Export the audit log as JSONL",
    description=(
        "One event per line in seq order, with its hash. Admins may omit `consultation` to "
        "get the whole chain; analysts and reviewers export the consultations they are "
        "members of. See app/audit/service.py for re-verifying a file."
    ),
)
async def export_events(
    request: Request,
    session: SessionDep,
    user: StaffUser,
    consultation: Annotated[str | None, Query(description="Consultation slug.")] = None,
) -> StreamingResponse:
    consultation_id = await service.authorise_export(session, user=user, slug=consultation)
    staff_view = service.staff_view_for(user)
    # The request's session is closed once this returns; the stream reads with its own.
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker

    async def lines() -> AsyncIterator[str]:
        async with sessionmaker() as stream_session:
            async for line in service.export_lines(
                stream_session, consultation_id=consultation_id, staff_view=staff_view
            ):
                yield line

    filename = f"audit-{consultation or 'all'}.jsonl"
    return StreamingResponse(
        lines(),
        media_type="application/jsonl",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

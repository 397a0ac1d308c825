"""Analysis runs over the API: start one, follow it, retry it."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, status

from app.db import SessionDep
from app.jobs import service
from app.jobs.schemas import RunCreate, RunOut
from app.jobs.worker import queue_app
from app.users.dependencies import AnalystUser, StaffUser
from app.users.models import User

router = APIRouter(tags=["jobs"])


async def analyst_of(slug: str, session: SessionDep, user: AnalystUser) -> User:
    """An admin or an analyst member (checked before the body is read)."""
    await service.consultation_for_analysis(session, slug=slug, user=user)
    return user


@router.post(
    "/api/v1/consultations/{slug}/runs",
    response_model=RunOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start an analysis run (admins, analysts of the consultation)",
    description="Queues the run as chunks that workers share; follow it at /api/v1/jobs/{id}.",
)
async def start_run(
    slug: str, data: RunCreate, session: SessionDep, user: Annotated[User, Depends(analyst_of)]
) -> RunOut:
    consultation = await service.consultation_for_analysis(session, slug=slug, user=user)
    run = await service.create_run(
        session,
        queue=queue_app(),
        consultation=consultation,
        kind=data.kind.value,
        user=user,
        chunk_size=data.chunk_size,
    )
    return RunOut.of(run)


@router.get(
    "/api/v1/jobs/{id}",
    response_model=RunOut,
    summary="A run's state, progress (done of total) and error (members of its consultation)",
)
async def get_job(id: uuid.UUID, session: SessionDep, user: StaffUser) -> RunOut:
    return RunOut.of(await service.get_run(session, run_id=id, user=user))


@router.post(
    "/api/v1/jobs/{id}/retry",
    response_model=RunOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Retry a failed run: re-queues only its unfinished chunks",
)
async def retry_job(id: uuid.UUID, session: SessionDep, user: AnalystUser) -> RunOut:
    run = await service.get_run(session, run_id=id, user=user, analyst=True)
    return RunOut.of(await service.retry_run(session, queue=queue_app(), run=run))

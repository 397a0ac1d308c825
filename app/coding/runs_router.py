"""Per-proposal analysis: start code and stance runs, the review queue, what to code next."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.codeframes.service import authorise_proposal
from app.coding import review
from app.coding.schemas import ProposalRunIn, ReviewQueueOut, SuggestedAnswersOut
from app.db import SessionDep
from app.jobs.schemas import RunOut
from app.jobs.worker import queue_app
from app.users.dependencies import AnalystUser
from app.users.models import User

router = APIRouter(prefix="/api/v1/proposals/{proposal_id}", tags=["coding"])


async def proposal_analyst(proposal_id: uuid.UUID, session: SessionDep, user: AnalystUser) -> User:
    """An admin or an analyst member (checked before the body is read)."""
    await authorise_proposal(session, proposal_id=proposal_id, user=user, write=True)
    return user


@router.post(
    "/runs",
    response_model=RunOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start a code or stance run for the proposal (admins, analysts of the consultation)",
    description="Queues the run as chunks that workers share; its id is the job id to follow "
    "at /api/v1/jobs/{id}. A code run needs a published codeframe and some answers coded by "
    "hand (409 `codeframe_not_published`, `no_coded_answers`).",
)
async def start_run(
    proposal_id: uuid.UUID,
    data: ProposalRunIn,
    session: SessionDep,
    user: Annotated[User, Depends(proposal_analyst)],
) -> RunOut:
    run = await review.start_proposal_run(
        session,
        queue=queue_app(),
        proposal_id=proposal_id,
        user=user,
        kind=data.kind,
        seed=data.seed,
        parameters=data.parameters,
        chunk_size=data.chunk_size,
    )
    return RunOut.of(run)


@router.get(
    "/review-queue",
    response_model=ReviewQueueOut,
    summary="Model codings to check: near a theme's threshold, or carried to a split theme",
)
async def review_queue(
    proposal_id: uuid.UUID,
    session: SessionDep,
    user: AnalystUser,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 20,
) -> ReviewQueueOut:
    return await review.review_queue(
        session, proposal_id=proposal_id, user=user, page=page, per_page=per_page
    )


@router.get(
    "/suggested-answers",
    response_model=SuggestedAnswersOut,
    summary="Uncoded answers worth coding next (the latest code model is least sure about them)",
)
async def suggested_answers(
    proposal_id: uuid.UUID,
    session: SessionDep,
    user: AnalystUser,
    k: Annotated[int, Query(ge=1, le=200)] = 20,
) -> SuggestedAnswersOut:
    return await review.suggested_answers(session, proposal_id=proposal_id, user=user, k=k)

"""Theme discovery over the API: start a run, read suggestions, make themes of them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, status

from app.codeframes.schemas import CodeframeOut
from app.db import SessionDep
from app.discovery import service
from app.discovery.schemas import DiscoverCreate, FromSuggestions, SuggestionsOut
from app.jobs.schemas import RunOut
from app.jobs.worker import queue_app
from app.users.dependencies import AnalystUser, StaffUser
from app.users.models import User

router = APIRouter(prefix="/api/v1", tags=["discovery"])


async def analyst_of(proposal_id: uuid.UUID, session: SessionDep, user: AnalystUser) -> User:
    """An admin or an analyst member of the proposal's consultation (before the body is read)."""
    await service.authorise(session, proposal_id=proposal_id, user=user)
    return user


@router.post(
    "/proposals/{proposal_id}/discover",
    response_model=RunOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start theme discovery over the proposal's answers (a job; follow /api/v1/jobs/{id})",
)
async def discover(
    proposal_id: uuid.UUID,
    session: SessionDep,
    user: AnalystUser,
    data: DiscoverCreate | None = None,
) -> RunOut:
    run = await service.start_discovery(
        session,
        queue=queue_app(),
        proposal_id=proposal_id,
        user=user,
        data=data or DiscoverCreate(),
    )
    return RunOut.of(run)


@router.get(
    "/proposals/{proposal_id}/theme-suggestions",
    response_model=SuggestionsOut,
    summary="The latest discover run's candidate themes: terms, draft label, redacted answers",
)
async def theme_suggestions(
    proposal_id: uuid.UUID, session: SessionDep, user: StaffUser
) -> SuggestionsOut:
    return await service.suggestions(session, proposal_id=proposal_id, user=user)


@router.post(
    "/proposals/{proposal_id}/codeframes/from-suggestions",
    response_model=CodeframeOut,
    status_code=status.HTTP_201_CREATED,
    summary="Make themes of chosen suggestions (accept, rename, merge; the rest are dropped)",
    description=(
        "Creates the proposal's draft codeframe (based on the published version, if any) or "
        "adds to the existing draft."
    ),
)
async def from_suggestions(
    proposal_id: uuid.UUID,
    data: FromSuggestions,
    session: SessionDep,
    user: Annotated[User, Depends(analyst_of)],
) -> CodeframeOut:
    return await service.accept_suggestions(session, proposal_id=proposal_id, user=user, data=data)

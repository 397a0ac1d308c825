"""`consult analyse code|stance SLUG --proposal N`: start a proposal run and follow it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.consultations.models import Proposal
from app.errors import NotFound


async def find_proposal(session: AsyncSession, *, slug: str, proposal: str) -> uuid.UUID:
    """The proposal by its number in the consultation (1, 2, ...) or its id."""
    from app.jobs.service import consultation_for_analysis

    consultation = await consultation_for_analysis(session, slug=slug, user=None)
    proposals = list(
        await session.scalars(
            select(Proposal)
            .where(Proposal.consultation_id == consultation.id)
            .order_by(Proposal.position, Proposal.created_at)
        )
    )
    if proposal.isdigit() and 1 <= int(proposal) <= len(proposals):
        return proposals[int(proposal) - 1].id
    for p in proposals:
        if str(p.id) == proposal:
            return p.id
    raise NotFound(
        f"No proposal {proposal} in {slug}: give its number (1 to {len(proposals)}) or its id."
    )


def analyse_proposal(
    slug: str,
    proposal: str,
    kind: str,
    *,
    seed: int,
    parameters: dict[str, Any],
    chunk_size: int | None,
) -> None:

    from app import migrate
    from app.cli import console, database, fail, follow_run, run_in_session
    from app.coding.review import start_proposal_run
    from app.errors import ConsultError
    from app.jobs.worker import make_app

    async def create(session: AsyncSession) -> Any:
        proposal_id = await find_proposal(session, slug=slug, proposal=proposal)
        return await start_proposal_run(
            session,
            queue=make_app(url),
            proposal_id=proposal_id,
            user=None,
            kind=kind,
            seed=seed,
            parameters=parameters,
            chunk_size=chunk_size,
        )

    with database() as url:
        migrate.upgrade(url)
        try:
            run = run_in_session(url, create)
        except ConsultError as exc:
            fail(exc.message)
        unit = "answers" if kind == "code" else "responses"
        console.print(f"Run {run.id} queued: {run.progress_total} {unit}, {run.chunk_count} jobs.")
        run = follow_run(url, run, kind)
    summary = {
        "run": str(run.id),
        "artefact_hash": run.artefact_hash,
        "data_count": run.data_count,
        "data_hash": run.data_hash,
        "seed": run.seed,
        "parameters": run.parameters,
        "metrics": run.metrics,
        "timings": run.timings,
    }
    console.print_json(data=summary)

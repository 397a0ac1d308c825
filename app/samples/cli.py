"""`consult audit sample`: draw an audit sample from the command line (as the operator)."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.consultations.models import Consultation, Proposal
from app.errors import NotFound
from app.samples import service
from app.samples.schemas import SampleCreate, SampleOut
from app.users.models import User


async def draw(
    session: AsyncSession, *, slug: str, proposal: int, body: dict[str, object], email: str | None
) -> SampleOut:
    """Proposal `proposal` (1-based, in the consultation's order) of `slug`."""
    consultation = await session.scalar(select(Consultation).where(Consultation.slug == slug))
    if consultation is None:
        raise NotFound(f"No consultation '{slug}'.")
    proposals = list(
        await session.scalars(
            select(Proposal.id)
            .where(Proposal.consultation_id == consultation.id)
            .order_by(Proposal.position, Proposal.created_at)
        )
    )
    if not 1 <= proposal <= len(proposals):
        raise NotFound(f"'{slug}' has proposals 1 to {len(proposals)}, not {proposal}.")
    user = None
    if email:
        user = await session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise NotFound(f"No user {email}.")
    return await service.draw_sample(
        session,
        proposal_id=proposals[proposal - 1],
        user=user,
        data=SampleCreate.model_validate(body),
    )


def summary(sample: SampleOut) -> str:
    return json.dumps(
        {
            "id": str(sample.id),
            "proposal": sample.proposal_title,
            "codeframe_version": sample.codeframe_version,
            "design": sample.design.value,
            "stratify_by": sample.stratify_by.value if sample.stratify_by else None,
            "size": sample.size,
            "population": sample.population,
            "seed": sample.seed,
            "population_hash": sample.population_hash,
            "sample_sizes": sample.sample_sizes,
        },
        indent=2,
    )

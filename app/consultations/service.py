"""Consultations, their proposals and questions; who may see them; whether they accept responses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.consultations.models import Consultation, Proposal, Question
from app.consultations.schemas import (
    ConsultationCreate,
    ConsultationDetail,
    ConsultationUpdate,
    ProposalIn,
    ProposalOut,
    ProposalUpdate,
    QuestionIn,
    QuestionOut,
    QuestionUpdate,
)
from app.enums import ConsultationStatus, Role
from app.errors import AlreadyExists, Conflict, Forbidden, NotFound
from app.users import service as users_service
from app.users.models import User

# Which status changes an admin may make, and the verb the API uses for each.
TRANSITIONS: dict[str, tuple[set[ConsultationStatus], ConsultationStatus]] = {
    "open": ({ConsultationStatus.draft, ConsultationStatus.closed}, ConsultationStatus.open),
    "close": ({ConsultationStatus.open}, ConsultationStatus.closed),
    "publish": ({ConsultationStatus.closed}, ConsultationStatus.published),
}


class NotDraft(Conflict):
    code = "consultation_not_draft"
    message = "Questions can only be added or restructured while the consultation is a draft."


class InvalidTransition(Conflict):
    code = "invalid_status_transition"


def can_see(consultation: Consultation, user: User | None) -> bool:
    return consultation.status != ConsultationStatus.draft or (
        user is not None and user.role == Role.admin
    )


def accepting_responses(consultation: Consultation, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    if consultation.status != ConsultationStatus.open:
        return False
    if consultation.opens_at and now < consultation.opens_at:
        return False
    return not (consultation.closes_at and now >= consultation.closes_at)


async def list_consultations(session: AsyncSession, *, user: User | None) -> list[Consultation]:
    query = select(Consultation).order_by(
        Consultation.opens_at.desc().nulls_last(), Consultation.slug
    )
    if user is None or user.role != Role.admin:
        query = query.where(Consultation.status != ConsultationStatus.draft)
    return list(await session.scalars(query))


async def _load(session: AsyncSession, slug: str, *, structure: bool) -> Consultation:
    query = select(Consultation).where(Consultation.slug == slug)
    if structure:
        # populate_existing: a consultation already in the session gets its collections loaded.
        query = query.options(
            selectinload(Consultation.proposals).selectinload(Proposal.questions)
        ).execution_options(populate_existing=True)
    consultation = await session.scalar(query)
    if consultation is None:
        raise NotFound(f"No consultation '{slug}'.")
    return consultation


async def get_consultation(
    session: AsyncSession, *, slug: str, user: User | None, structure: bool = True
) -> Consultation:
    """The consultation if this caller may see it; drafts look absent to everyone but admins."""
    consultation = await _load(session, slug, structure=structure)
    if not can_see(consultation, user):
        raise NotFound(f"No consultation '{slug}'.")
    return consultation


async def require_access(
    session: AsyncSession,
    *,
    consultation: Consultation,
    user: User | None,
    roles: tuple[Role, ...],
    action: str,
    missing: str | None = None,
) -> None:
    """Admins (and None: the CLI, run by the operator) pass; so do members of the
    consultation whose role is in `roles`. Others get 403, or 404 (`missing`) while the
    consultation is a draft, which must look absent to them."""
    if user is None or user.role == Role.admin:
        return
    member = await users_service.is_member(session, user=user, consultation_id=consultation.id)
    if member and user.role in roles:
        return
    if not member and consultation.status == ConsultationStatus.draft:
        raise NotFound(missing or f"No consultation '{consultation.slug}'.")
    allowed = " and ".join(f"{r.value}s" for r in roles)
    raise Forbidden(f"Only admins and {allowed} of this consultation can {action}.")


async def consultation_for_analyst(
    session: AsyncSession, *, slug: str, user: User | None, action: str
) -> Consultation:
    """The consultation if `user` may do analyst work on it (see require_access)."""
    consultation = await _load(session, slug, structure=False)
    await require_access(
        session, consultation=consultation, user=user, roles=(Role.analyst,), action=action
    )
    return consultation


def to_detail(consultation: Consultation) -> ConsultationDetail:
    return ConsultationDetail(
        id=consultation.id,
        slug=consultation.slug,
        title=consultation.title,
        status=consultation.status,
        opens_at=consultation.opens_at,
        closes_at=consultation.closes_at,
        description=consultation.description,
        accepting_responses=accepting_responses(consultation),
        proposals=[
            ProposalOut(
                id=p.id,
                title=p.title,
                summary=p.summary,
                position=p.position,
                questions=[QuestionOut.model_validate(q) for q in p.questions],
            )
            for p in consultation.proposals
        ],
    )


async def get_detail(session: AsyncSession, *, slug: str, user: User | None) -> ConsultationDetail:
    return to_detail(await get_consultation(session, slug=slug, user=user))


def _questions(proposal_id: uuid.UUID, questions: list[QuestionIn], start: int) -> list[Question]:
    return [
        Question(
            proposal_id=proposal_id,
            number=q.number,
            text=q.text,
            kind=q.kind,
            options=list(q.options),
            required=q.required,
            stance_map={k: v.value for k, v in q.stance_map.items()} if q.stance_map else None,
            position=start + i,
        )
        for i, q in enumerate(questions)
    ]


async def _add_proposal(
    session: AsyncSession, consultation: Consultation, data: ProposalIn, position: int
) -> Proposal:
    proposal = Proposal(
        consultation_id=consultation.id, title=data.title, summary=data.summary, position=position
    )
    session.add(proposal)
    await session.flush()
    session.add_all(_questions(proposal.id, data.questions, 0))
    await session.flush()
    return proposal


async def _ensure_unique_numbers(session: AsyncSession, consultation_id: uuid.UUID) -> None:
    duplicate = await session.scalar(
        select(Question.number)
        .join(Proposal)
        .where(Proposal.consultation_id == consultation_id)
        .group_by(Question.number)
        .having(func.count() > 1)
        .limit(1)
    )
    if duplicate is not None:
        raise AlreadyExists(f"Question number {duplicate} is used twice in this consultation.")


async def create_consultation(
    session: AsyncSession, *, data: ConsultationCreate
) -> ConsultationDetail:
    if await session.scalar(select(Consultation.id).where(Consultation.slug == data.slug)):
        raise AlreadyExists(f"A consultation with slug '{data.slug}' already exists.")
    consultation = Consultation(
        slug=data.slug,
        title=data.title,
        description=data.description,
        opens_at=data.opens_at,
        closes_at=data.closes_at,
        status=ConsultationStatus.draft,
    )
    session.add(consultation)
    await session.flush()
    for position, proposal in enumerate(data.proposals):
        await _add_proposal(session, consultation, proposal, position)
    await _ensure_unique_numbers(session, consultation.id)
    return to_detail(await _load(session, data.slug, structure=True))


async def update_consultation(
    session: AsyncSession, *, slug: str, data: ConsultationUpdate
) -> ConsultationDetail:
    consultation = await _load(session, slug, structure=False)
    for field, value in data.model_dump(exclude_unset=True).items():
        if value is not None or field in ("opens_at", "closes_at"):
            setattr(consultation, field, value)
    if (
        consultation.opens_at
        and consultation.closes_at
        and consultation.closes_at <= consultation.opens_at
    ):
        raise Conflict("closes_at must be after opens_at.")
    await session.flush()
    return to_detail(await _load(session, slug, structure=True))


async def change_status(session: AsyncSession, *, slug: str, action: str) -> ConsultationDetail:
    allowed_from, target = TRANSITIONS[action]
    consultation = await _load(session, slug, structure=False)
    if consultation.status not in allowed_from:
        raise InvalidTransition(
            f"Cannot {action} a consultation that is {consultation.status.value}."
        )
    consultation.status = target
    await session.flush()
    return to_detail(await _load(session, slug, structure=True))


async def add_proposal(session: AsyncSession, *, slug: str, data: ProposalIn) -> ProposalOut:
    consultation = await _load(session, slug, structure=True)
    if consultation.status != ConsultationStatus.draft:
        raise NotDraft()
    proposal = await _add_proposal(session, consultation, data, len(consultation.proposals))
    await _ensure_unique_numbers(session, consultation.id)
    return await get_proposal_out(session, proposal_id=proposal.id)


async def get_proposal_out(session: AsyncSession, *, proposal_id: uuid.UUID) -> ProposalOut:
    proposal = await session.scalar(
        select(Proposal)
        .where(Proposal.id == proposal_id)
        .options(selectinload(Proposal.questions))
        .execution_options(populate_existing=True)
    )
    if proposal is None:
        raise NotFound("No such proposal.")
    return ProposalOut(
        id=proposal.id,
        title=proposal.title,
        summary=proposal.summary,
        position=proposal.position,
        questions=[QuestionOut.model_validate(q) for q in proposal.questions],
    )


async def _proposal_with_consultation(
    session: AsyncSession, proposal_id: uuid.UUID
) -> tuple[Proposal, Consultation]:
    row = (
        await session.execute(
            select(Proposal, Consultation)
            .join(Consultation, Consultation.id == Proposal.consultation_id)
            .where(Proposal.id == proposal_id)
        )
    ).first()
    if row is None:
        raise NotFound("No such proposal.")
    return row[0], row[1]


async def update_proposal(
    session: AsyncSession, *, proposal_id: uuid.UUID, data: ProposalUpdate
) -> ProposalOut:
    proposal, _ = await _proposal_with_consultation(session, proposal_id)
    for field, value in data.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(proposal, field, value)
    await session.flush()
    return await get_proposal_out(session, proposal_id=proposal_id)


async def add_question(
    session: AsyncSession, *, proposal_id: uuid.UUID, data: QuestionIn
) -> QuestionOut:
    proposal, consultation = await _proposal_with_consultation(session, proposal_id)
    if consultation.status != ConsultationStatus.draft:
        raise NotDraft()
    existing = list(
        await session.scalars(select(Question).where(Question.proposal_id == proposal_id))
    )
    if data.stance_map is not None and any(q.stance_map is not None for q in existing):
        raise Conflict("This proposal already has a stance question.")
    (question,) = _questions(proposal.id, [data], len(existing))
    session.add(question)
    await session.flush()
    await _ensure_unique_numbers(session, consultation.id)
    return QuestionOut.model_validate(question)


async def update_question(
    session: AsyncSession, *, question_id: uuid.UUID, data: QuestionUpdate
) -> QuestionOut:
    row = (
        await session.execute(
            select(Question, Consultation)
            .join(Proposal, Proposal.id == Question.proposal_id)
            .join(Consultation, Consultation.id == Proposal.consultation_id)
            .where(Question.id == question_id)
        )
    ).first()
    if row is None:
        raise NotFound("No such question.")
    question, consultation = row
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    # Wording can be corrected at any time; making a question required cannot change under
    # respondents' feet.
    if "required" in changes and consultation.status != ConsultationStatus.draft:
        raise NotDraft("Whether a question is required can only change while in draft.")
    for field, value in changes.items():
        setattr(question, field, value)
    await session.flush()
    await _ensure_unique_numbers(session, consultation.id)
    return QuestionOut.model_validate(question)


async def add_member(session: AsyncSession, *, slug: str, email: str) -> None:
    consultation = await _load(session, slug, structure=False)
    user = await session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"No user with email {email}.")
    await users_service.add_membership(session, user_id=user.id, consultation_id=consultation.id)

"""The demo's audit sample: drawn on the open demo consultation and reviewed by two reviewers.

On the first proposal with a published codeframe (the analysis step makes them) the first
demo reviewer draws a sample stratified by the coding's confidence band (seed 2016, through
the ordinary service, so it is in the audit log). Both demo reviewers then review most of
its items blind: each judges the generator's gold themes (and stance) with a little
seeded noise, as independent people would, so the agreement dashboard has real figures.
The last few items are left unreviewed so a visitor signed in as a reviewer can code some
themselves.

Idempotent: nothing is done when the consultation already has an audit sample.
"""

from __future__ import annotations

import random
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.codeframes.models import Codeframe
from app.consultations.models import Consultation, Proposal, Question
from app.demo.content import DemoConsultation
from app.enums import CodeframeStatus, Stance
from app.responses.models import Answer
from app.samples import service
from app.samples.models import AuditSample, SampleDesign, SampleItem, Stratification
from app.samples.schemas import ReviewIn, SampleCreate
from app.users.models import User

DEMO_REVIEWERS = ("reviewer@demo.consult.example", "reviewer2@demo.consult.example")
SIZE = 40
SEED = 2016
# (reviewer, share of themes judged differently from the gold, items left unreviewed)
STYLES = ((0.03, 6), (0.05, 10))


async def load_demo_audit(session: AsyncSession, demo: DemoConsultation) -> str:
    consultation = await session.scalar(select(Consultation).where(Consultation.slug == demo.slug))
    reviewers = [
        await session.scalar(select(User).where(User.email == email)) for email in DEMO_REVIEWERS
    ]
    if consultation is None or any(r is None for r in reviewers):
        return f"{demo.slug}: no audit sample (consultation or reviewers missing)"
    found = (
        await session.execute(
            select(Proposal, Codeframe)
            .join(Codeframe, Codeframe.proposal_id == Proposal.id)
            .where(
                Proposal.consultation_id == consultation.id,
                Codeframe.status == CodeframeStatus.published,
            )
            .order_by(Proposal.position, Proposal.created_at)
        )
    ).first()
    if found is None:
        return f"{demo.slug}: no audit sample (no published codeframe)"
    proposal, _ = found
    if await session.scalar(
        select(AuditSample.id)
        .join(Proposal, Proposal.id == AuditSample.proposal_id)
        .where(Proposal.consultation_id == consultation.id)
    ):
        return f"{demo.slug}: audit sample already drawn"
    first = reviewers[0]
    assert first is not None
    summary = await service.proposal_summary(session, proposal_id=proposal.id, user=first)
    if summary["population"] == 0:
        return f"{demo.slug}: no audit sample (no coded answers)"
    sample = await service.draw_sample(
        session,
        proposal_id=proposal.id,
        user=first,
        data=SampleCreate(
            design=SampleDesign.stratified,
            stratify_by=Stratification.confidence_band,
            size=min(SIZE, summary["population"]),
            seed=SEED,
        ),
    )
    spec_index = await _proposal_index(session, consultation.id, proposal.id)
    spec = demo.proposals[spec_index]
    stance_keys = [q.key for q in spec.questions if q.stance_map]
    gold: dict[tuple[str, str], tuple[list[str], str | None]] = {}
    for response in demo.responses:
        stance = next(
            (response.gold_stance[k] for k in stance_keys if k in response.gold_stance), None
        )
        for key, value in response.answers.items():
            if isinstance(value, str) and key in response.gold_themes:
                gold.setdefault((key, value), (sorted(response.gold_themes[key]), stance))
    keys = {q.number: q.key for q in spec.questions}
    items = list(
        await session.execute(
            select(SampleItem.id, SampleItem.position, Question.number, Answer.text)
            .join(Answer, Answer.id == SampleItem.answer_id)
            .join(Question, Question.id == Answer.question_id)
            .where(SampleItem.sample_id == sample.id)
            .order_by(SampleItem.position)
        )
    )
    codes = [t.code for t in spec.themes]
    reviews = 0
    for reviewer, (noise, left) in zip(reviewers, STYLES, strict=True):
        assert reviewer is not None
        rng = random.Random(f"{SEED}:{reviewer.email}")
        for item_id, _, number, answer_text in items[: max(0, len(items) - left)]:
            themes, stance = gold.get((keys.get(number, ""), answer_text or ""), ([], None))
            judged = {c for c in codes if (c in themes) != (rng.random() < noise)}
            await service.submit_review(
                session,
                sample_id=sample.id,
                item_id=item_id,
                user=reviewer,
                data=ReviewIn(themes=sorted(judged), stance=Stance(stance) if stance else None),
            )
            reviews += 1
    return (
        f"{demo.slug}: audit sample of {sample.size} answers ({proposal.title}), "
        f"{reviews} blind reviews by {len(reviewers)} reviewers"
    )


async def _proposal_index(
    session: AsyncSession, consultation_id: uuid.UUID, proposal_id: uuid.UUID
) -> int:
    ids = list(
        await session.scalars(
            select(Proposal.id)
            .where(Proposal.consultation_id == consultation_id)
            .order_by(Proposal.position, Proposal.created_at)
        )
    )
    return ids.index(proposal_id)

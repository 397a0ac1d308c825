"""What the analyst coding pages show: the coding editor of one answer and a proposal's
review queue (app/coding/pages.py renders them; every change goes through the services)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.codeframes.models import Theme
from app.codeframes.service import authorise_proposal
from app.coding import review, service
from app.coding.schemas import AnswerCodesOut, AnswerHistoryOut, ReviewQueueOut
from app.consultations.models import Consultation, Proposal, Question
from app.responses.models import Answer
from app.users.models import User


@dataclass
class ThemeRow:
    code: str
    label: str
    description: str
    present: bool
    source: str | None  # "human" | "model" | None (not decided)
    confidence: float | None
    threshold: float | None
    borderline: bool
    needs_review: bool
    terms: list[str] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)  # {answer_id, text, similarity}


@dataclass
class EditorView:
    answer: Answer
    question: Question
    proposal: Proposal
    consultation: Consultation
    codeframe_id: uuid.UUID | None
    codeframe_version: int | None
    themes: list[ThemeRow]
    codes: AnswerCodesOut
    history: AnswerHistoryOut
    stance_options: list[str]


async def editor_view(session: AsyncSession, *, answer_id: uuid.UUID, user: User) -> EditorView:
    """The answer (raw and redacted: analysts and admins only), its current codes with their
    evidence, every theme of the published codeframe to tick, and its history."""
    codes = await service.current_codes(session, answer_id=answer_id, user=user)
    history = await service.history(session, answer_id=answer_id, user=user)
    row = (
        await session.execute(
            select(Answer, Question, Proposal, Consultation)
            .join(Question, Question.id == Answer.question_id)
            .join(Proposal, Proposal.id == Question.proposal_id)
            .join(Consultation, Consultation.id == Proposal.consultation_id)
            .where(Answer.id == answer_id)
        )
    ).one()
    answer, question, proposal, consultation = row
    themes: list[ThemeRow] = []
    if codes.codeframe_id is not None:
        decisions = {
            r.theme_id: r
            for r in await session.execute(
                text(
                    "SELECT theme_id, present, source, confidence, evidence, needs_review "
                    "FROM codings WHERE answer_id = :a AND codeframe_id = :cf AND is_current"
                ),
                {"a": answer_id, "cf": codes.codeframe_id},
            )
        }
        example_ids: set[str] = set()
        for decision in decisions.values():
            for e in (decision.evidence or {}).get("examples", []):
                example_ids.add(str(e.get("answer_id")))
        quotes = {
            str(r.id): r.redacted_text or ""
            for r in await session.execute(
                text("SELECT id, redacted_text FROM answers WHERE id = ANY(CAST(:ids AS uuid[]))"),
                {"ids": sorted(example_ids)},
            )
        }
        for theme in await session.scalars(
            select(Theme)
            .where(Theme.codeframe_id == codes.codeframe_id)
            .order_by(Theme.position, Theme.code)
        ):
            found = decisions.get(theme.id)
            d: Any = found
            evidence = (d.evidence or {}) if d is not None else {}
            themes.append(
                ThemeRow(
                    code=theme.code,
                    label=theme.label,
                    description=theme.description,
                    present=bool(d is not None and d.present),
                    source=d.source if d is not None else None,
                    confidence=d.confidence if d is not None else None,
                    threshold=evidence.get("threshold"),
                    borderline=bool(evidence.get("borderline")),
                    needs_review=bool(d is not None and d.needs_review),
                    terms=[str(t[0]) for t in evidence.get("terms", [])],
                    examples=[
                        {
                            "answer_id": e.get("answer_id"),
                            "text": quotes.get(str(e.get("answer_id")), ""),
                            "similarity": e.get("similarity"),
                        }
                        for e in evidence.get("examples", [])
                    ],
                )
            )
    stance_options = ["support", "oppose", "mixed", "neutral", "unclear"]
    return EditorView(
        answer=answer,
        question=question,
        proposal=proposal,
        consultation=consultation,
        codeframe_id=codes.codeframe_id,
        codeframe_version=codes.codeframe_version,
        themes=themes,
        codes=codes,
        history=history,
        stance_options=stance_options,
    )


@dataclass
class ReviewView:
    proposal: Proposal
    consultation: Consultation
    queue: ReviewQueueOut
    suggestions: Any  # SuggestedAnswersOut | None
    suggestion_error: str | None


async def review_view(
    session: AsyncSession,
    *,
    proposal_id: uuid.UUID,
    user: User,
    page: int,
    per_page: int = 20,
    suggest: bool = False,
) -> ReviewView:
    proposal, consultation = await authorise_proposal(
        session, proposal_id=proposal_id, user=user, write=True
    )
    queue = await review.review_queue(
        session, proposal_id=proposal_id, user=user, page=page, per_page=per_page
    )
    suggestions = None
    error = None
    if suggest:
        try:
            suggestions = await review.suggested_answers(
                session, proposal_id=proposal_id, user=user, k=10
            )
        except review.NoModel as exc:
            error = exc.message
    return ReviewView(proposal, consultation, queue, suggestions, error)

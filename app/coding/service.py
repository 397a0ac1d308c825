"""Human coding of answers; current codes and the full decision history.

Decisions are never updated in place: a change inserts a row with `supersedes_id` naming the
decision it replaces, whose `is_current` flag is turned off in the same transaction (the only
UPDATE the database allows on these tables). A human coding records a decision for every
theme of the codeframe whose current state differs (value, or not yet decided by a person),
so re-sending the same coding writes nothing, and a coded answer with no themes is recorded
as "none of these".
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Actor, record_event
from app.codeframes.models import Codeframe, Theme
from app.codeframes.service import authorise_proposal, published_codeframe
from app.coding.models import Coding, Stance
from app.coding.schemas import (
    AnswerCodesOut,
    AnswerHistoryOut,
    CodeOut,
    CodesIn,
    DecisionOut,
    StanceOut,
)
from app.consultations.models import Proposal, Question
from app.enums import CodeframeStatus, CodingSource
from app.enums import Stance as StanceValue
from app.errors import Conflict, NotFound, ValidationFailed, field_error
from app.responses.models import Answer
from app.users.models import User


class CodeframeNotPublished(Conflict):
    code = "codeframe_not_published"
    message = "Answers are coded against the proposal's currently published codeframe."


class WrongCodeframe(ValidationFailed):
    code = "codeframe_wrong_proposal"
    message = "This codeframe belongs to another proposal than the answer's question."


class UnknownTheme(ValidationFailed):
    code = "unknown_theme"
    message = "A theme code is not in this codeframe."


async def _answer(
    session: AsyncSession, answer_id: uuid.UUID, user: User, *, lock: bool = False
) -> tuple[Answer, uuid.UUID]:
    """The answer (analysts and admins of its consultation) and its proposal id."""
    query = (
        select(Answer, Question.proposal_id)
        .join(Question, Question.id == Answer.question_id)
        .where(Answer.id == answer_id)
    )
    if lock:
        # Serialises recodings of one answer.
        query = query.with_for_update(of=Answer)
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFound("No such answer.")
    answer, proposal_id = row
    try:
        await authorise_proposal(session, proposal_id=proposal_id, user=user, write=True)
    except NotFound:
        raise NotFound("No such answer.") from None
    return answer, proposal_id


async def set_codes(
    session: AsyncSession,
    *,
    answer_id: uuid.UUID,
    user: User,
    data: CodesIn,
    evidence: dict[str, Any] | None = None,
) -> AnswerCodesOut:
    """`evidence` goes on every decision this writes (e.g. the challenge that caused it)."""
    answer, proposal_id = await _answer(session, answer_id, user, lock=True)
    if data.stance is not None:
        # The stance belongs to the response, which other answers share: lock the response
        # before writing anything (the count triggers of codings take a share lock on it, of
        # stances an exclusive one), as model stance runs do, so two people setting one
        # response's stance at once wait for each other instead of deadlocking.
        await _lock_responses(session, [answer.response_id])
    codeframe = await session.get(Codeframe, data.codeframe_id)
    if codeframe is None or codeframe.proposal_id != proposal_id:
        raise WrongCodeframe(
            fields=[field_error(["codeframe_id"], WrongCodeframe.message)]
            if codeframe is not None
            else [field_error(["codeframe_id"], "No such codeframe.")]
        )
    if codeframe.status != CodeframeStatus.published:
        raise CodeframeNotPublished()
    themes = list(await session.scalars(select(Theme).where(Theme.codeframe_id == codeframe.id)))
    by_code = {t.code: t for t in themes}
    unknown = [
        field_error(["themes", i], f"No theme {code} in codeframe version {codeframe.version}.")
        for i, code in enumerate(data.themes)
        if code not in by_code
    ]
    if unknown:
        raise UnknownTheme(fields=unknown)
    wanted = set(data.themes)
    current = {
        c.theme_id: c
        for c in await session.scalars(
            select(Coding).where(
                Coding.answer_id == answer.id,
                Coding.codeframe_id == codeframe.id,
                Coding.is_current,
            )
        )
    }
    new: list[Coding] = []
    for theme in themes:
        present = theme.code in wanted
        old = current.get(theme.id)
        if (
            old is not None
            and old.present == present
            and old.source == CodingSource.human
            and not old.needs_review
        ):
            continue
        new.append(
            Coding(
                answer_id=answer.id,
                theme_id=theme.id,
                codeframe_id=codeframe.id,
                present=present,
                source=CodingSource.human,
                user_id=user.id,
                evidence=dict(evidence or {}),
                supersedes_id=old.id if old is not None else None,
            )
        )
    before = sorted(t.code for t in themes if (c := current.get(t.id)) and c.present)
    superseded = [c.supersedes_id for c in new if c.supersedes_id is not None]
    if superseded:
        await session.execute(
            update(Coding).where(Coding.id.in_(superseded)).values(is_current=False)
        )
    session.add_all(new)
    stance_change = None
    if data.stance is not None:
        stance_change = await _set_stance(
            session, answer=answer, proposal_id=proposal_id, user=user, data=data
        )
    await session.flush()
    if new or stance_change:
        consultation_id = await session.scalar(
            select(Proposal.consultation_id).where(Proposal.id == proposal_id)
        )
        await record_event(
            session,
            action="coding.set",
            entity_type="answer",
            entity_id=answer.id,
            before={"codeframe_version": codeframe.version, "themes": before}
            | ({"stance": stance_change[0]} if stance_change else {}),
            after={"codeframe_version": codeframe.version, "themes": sorted(wanted)}
            | ({"stance": stance_change[1]} if stance_change else {}),
            actor=Actor.for_user(user),
            consultation_id=consultation_id,
        )
    return await current_codes(session, answer_id=answer.id, user=user, codeframe_id=codeframe.id)


async def _lock_responses(session: AsyncSession, response_ids: Sequence[uuid.UUID]) -> None:
    """Locks responses (id order, FOR NO KEY UPDATE as the stance count triggers do) before
    their stances change: every stance writer takes the response first, then stance rows."""
    await session.execute(
        text(
            "SELECT count(*) FROM (SELECT 1 FROM responses WHERE id = ANY(:ids) "
            "ORDER BY id FOR NO KEY UPDATE) locked"
        ),
        {"ids": list(response_ids)},
    )


async def _current_stance(
    session: AsyncSession, response_id: uuid.UUID, proposal_id: uuid.UUID
) -> Stance | None:
    return await session.scalar(
        select(Stance).where(
            Stance.response_id == response_id,
            Stance.proposal_id == proposal_id,
            Stance.is_current,
        )
    )


async def _set_stance(
    session: AsyncSession, *, answer: Answer, proposal_id: uuid.UUID, user: User, data: CodesIn
) -> tuple[str | None, str] | None:
    """Records the stance if it changes; returns (before, after) or None."""
    assert data.stance is not None
    old = await _current_stance(session, answer.response_id, proposal_id)
    if old is not None and old.value == data.stance and old.source == CodingSource.human:
        return None
    if old is not None:
        await session.execute(update(Stance).where(Stance.id == old.id).values(is_current=False))
    session.add(
        Stance(
            answer_id=answer.id,
            response_id=answer.response_id,
            proposal_id=proposal_id,
            value=data.stance,
            source=CodingSource.human,
            user_id=user.id,
            evidence={},
            supersedes_id=old.id if old is not None else None,
        )
    )
    return (old.value.value if old is not None else None, data.stance.value)


async def current_codes(
    session: AsyncSession,
    *,
    answer_id: uuid.UUID,
    user: User,
    codeframe_id: uuid.UUID | None = None,
) -> AnswerCodesOut:
    answer, proposal_id = await _answer(session, answer_id, user)
    codeframe = (
        await session.get(Codeframe, codeframe_id)
        if codeframe_id is not None
        else await published_codeframe(session, proposal_id)
    )
    if codeframe is not None and codeframe.proposal_id != proposal_id:
        raise WrongCodeframe(fields=[field_error(["codeframe_id"], WrongCodeframe.message)])
    codes: list[CodeOut] = []
    coded = False
    if codeframe is not None:
        rows = await session.execute(
            select(Coding, Theme)
            .join(Theme, Theme.id == Coding.theme_id)
            .where(
                Coding.answer_id == answer.id,
                Coding.codeframe_id == codeframe.id,
                Coding.is_current,
            )
            .order_by(Theme.position, Theme.code)
            .execution_options(populate_existing=True)
        )
        for coding, theme in rows:
            coded = True
            if coding.present:
                codes.append(
                    CodeOut(
                        coding_id=coding.id,
                        code=theme.code,
                        label=theme.label,
                        source=coding.source,
                        user_id=coding.user_id,
                        run_id=coding.run_id,
                        confidence=coding.confidence,
                        evidence=coding.evidence,
                        needs_review=coding.needs_review,
                        created_at=coding.created_at,
                    )
                )
    stance = await _current_stance(session, answer.response_id, proposal_id)
    return AnswerCodesOut(
        answer_id=answer.id,
        codeframe_id=codeframe.id if codeframe else None,
        codeframe_version=codeframe.version if codeframe else None,
        coded=coded,
        codes=codes,
        stance=StanceOut(
            stance_id=stance.id,
            value=stance.value,
            source=stance.source,
            user_id=stance.user_id,
            run_id=stance.run_id,
            confidence=stance.confidence,
            created_at=stance.created_at,
        )
        if stance is not None
        else None,
    )


async def history(session: AsyncSession, *, answer_id: uuid.UUID, user: User) -> AnswerHistoryOut:
    """Every coding and stance decision about the answer, oldest first."""
    answer, proposal_id = await _answer(session, answer_id, user)
    names: dict[uuid.UUID, str] = {}
    decisions: list[tuple[tuple[Any, ...], DecisionOut]] = []
    coding_rows = list(
        await session.execute(
            select(Coding, Theme, Codeframe)
            .join(Theme, Theme.id == Coding.theme_id)
            .join(Codeframe, Codeframe.id == Coding.codeframe_id)
            .where(Coding.answer_id == answer.id)
            .execution_options(populate_existing=True)
        )
    )
    stance_rows = list(
        await session.scalars(
            select(Stance)
            .where(Stance.response_id == answer.response_id, Stance.proposal_id == proposal_id)
            .execution_options(populate_existing=True)
        )
    )
    user_ids = {c.user_id for c, _, _ in coding_rows} | {s.user_id for s in stance_rows}
    user_ids.discard(None)
    if user_ids:
        for uid, name, email in await session.execute(
            select(User.id, User.name, User.email).where(User.id.in_(user_ids))
        ):
            names[uid] = name or email
    superseded_by: dict[uuid.UUID, uuid.UUID] = {
        c.supersedes_id: c.id for c, _, _ in coding_rows if c.supersedes_id
    } | {s.supersedes_id: s.id for s in stance_rows if s.supersedes_id}
    for coding, theme, codeframe in coding_rows:
        decisions.append(
            (
                # Decisions of one transaction share created_at: superseded ones first.
                (
                    coding.created_at,
                    codeframe.version,
                    theme.position,
                    theme.code,
                    coding.is_current,
                ),
                DecisionOut(
                    id=coding.id,
                    kind="coding",
                    codeframe_id=codeframe.id,
                    codeframe_version=codeframe.version,
                    code=theme.code,
                    present=coding.present,
                    stance=None,
                    source=coding.source,
                    user_id=coding.user_id,
                    user_name=names.get(coding.user_id) if coding.user_id else None,
                    run_id=coding.run_id,
                    confidence=coding.confidence,
                    evidence=coding.evidence,
                    needs_review=coding.needs_review,
                    is_current=coding.is_current,
                    supersedes_id=coding.supersedes_id,
                    superseded_by_id=superseded_by.get(coding.id),
                    carried_from_id=coding.carried_from_id,
                    created_at=coding.created_at,
                ),
            )
        )
    for stance in stance_rows:
        decisions.append(
            (
                (stance.created_at, 0, -1, "", stance.is_current),
                DecisionOut(
                    id=stance.id,
                    kind="stance",
                    codeframe_id=None,
                    codeframe_version=None,
                    code=None,
                    present=None,
                    stance=stance.value,
                    source=stance.source,
                    user_id=stance.user_id,
                    user_name=names.get(stance.user_id) if stance.user_id else None,
                    run_id=stance.run_id,
                    confidence=stance.confidence,
                    evidence=stance.evidence,
                    needs_review=False,
                    is_current=stance.is_current,
                    supersedes_id=stance.supersedes_id,
                    superseded_by_id=superseded_by.get(stance.id),
                    carried_from_id=None,
                    created_at=stance.created_at,
                ),
            )
        )
    decisions.sort(key=lambda d: d[0])
    return AnswerHistoryOut(answer_id=answer.id, decisions=[d for _, d in decisions])


# --------------------------------------------------------------------------------------
# Model decisions (written by analysis runs)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelCoding:
    answer_id: uuid.UUID
    theme_id: uuid.UUID
    present: bool
    confidence: float | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelStance:
    response_id: uuid.UUID
    value: StanceValue
    answer_id: uuid.UUID | None = None
    confidence: float | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


# The decisions travel as one JSON document (jsonb_to_recordset): far cheaper to send than
# five parallel arrays, which the driver escapes element by element.
RETIRE_MODEL_CODINGS = text(
    """
    UPDATE codings c SET is_current = false
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS i(answer_id uuid, theme_id uuid)
    WHERE c.answer_id = i.answer_id AND c.theme_id = i.theme_id AND c.is_current
      AND c.source = 'model' AND c.run_id IS DISTINCT FROM :run_id
    RETURNING c.id, c.answer_id, c.theme_id
    """
)

INSERT_MODEL_CODINGS = text(
    """
    INSERT INTO codings (answer_id, theme_id, codeframe_id, present, source, run_id, confidence,
                         evidence, supersedes_id, is_current, needs_review)
    SELECT i.answer_id, i.theme_id, t.codeframe_id, i.present, 'model', :run_id, i.confidence,
           coalesce(i.evidence, '{}'::jsonb), i.supersedes_id, true, false
    FROM jsonb_to_recordset(CAST(:rows AS jsonb))
         AS i(answer_id uuid, theme_id uuid, present boolean, confidence float8, evidence jsonb,
              supersedes_id uuid)
    JOIN themes t ON t.id = i.theme_id AND t.codeframe_id = :codeframe_id
    WHERE NOT EXISTS (
        SELECT 1 FROM codings c
        WHERE c.answer_id = i.answer_id AND c.theme_id = i.theme_id AND c.is_current
    )
    """
)


async def write_model_codings(
    session: AsyncSession,
    *,
    codeframe_id: uuid.UUID,
    run_id: uuid.UUID,
    codings: Sequence[ModelCoding],
) -> int:
    """Writes a run's decisions in two set-based statements; returns how many were inserted.

    - a current decision by a person is never superseded by a model;
    - a current decision by another run is superseded (the new run's is current);
    - a decision this run already wrote is kept, so an interrupted run re-runs without
      duplicating codings;
    - themes that are not in `codeframe_id` are ignored.
    The caller checks the codeframe is the proposal's published one.
    """
    if not codings:
        return 0
    keys = json.dumps(
        [{"answer_id": str(c.answer_id), "theme_id": str(c.theme_id)} for c in codings]
    )
    retired = {
        (r.answer_id, r.theme_id): str(r.id)
        for r in await session.execute(RETIRE_MODEL_CODINGS, {"rows": keys, "run_id": run_id})
    }
    # Each decision names the one it supersedes here, not by joining the retired rows in SQL
    # (two unestimated record sets: planned as a nested loop, quadratic on re-runs).
    rows = json.dumps(
        [
            {
                "answer_id": str(c.answer_id),
                "theme_id": str(c.theme_id),
                "present": c.present,
                "confidence": c.confidence,
                "evidence": c.evidence,
                "supersedes_id": retired.get((c.answer_id, c.theme_id)),
            }
            for c in codings
        ]
    )
    result = await session.execute(
        INSERT_MODEL_CODINGS,
        {"codeframe_id": codeframe_id, "run_id": run_id, "rows": rows},
    )
    return int(getattr(result, "rowcount", 0) or 0)


RETIRE_MODEL_STANCES = text(
    """
    UPDATE stances s SET is_current = false
    FROM unnest(CAST(:response_ids AS uuid[])) AS i(response_id)
    WHERE s.response_id = i.response_id AND s.proposal_id = :proposal_id AND s.is_current
      AND s.source = 'model' AND s.run_id IS DISTINCT FROM :run_id
    RETURNING s.id, s.response_id
    """
)

INSERT_MODEL_STANCES = text(
    """
    INSERT INTO stances (answer_id, response_id, proposal_id, value, source, run_id, confidence,
                         evidence, supersedes_id, is_current)
    SELECT i.answer_id, i.response_id, :proposal_id, i.value, 'model', :run_id, i.confidence,
           CAST(i.evidence AS jsonb), r.id, true
    FROM unnest(CAST(:answer_ids AS uuid[]), CAST(:response_ids AS uuid[]),
                CAST(:values AS text[]), CAST(:confidence AS float8[]),
                CAST(:evidence AS text[]))
         AS i(answer_id, response_id, value, confidence, evidence)
    LEFT JOIN unnest(CAST(:old_ids AS uuid[]), CAST(:old_responses AS uuid[]))
           AS r(id, response_id) ON r.response_id = i.response_id
    WHERE NOT EXISTS (
        SELECT 1 FROM stances s
        WHERE s.response_id = i.response_id AND s.proposal_id = :proposal_id AND s.is_current
    )
    """
)


async def write_model_stances(
    session: AsyncSession,
    *,
    proposal_id: uuid.UUID,
    run_id: uuid.UUID,
    stances: Sequence[ModelStance],
) -> int:
    """As `write_model_codings`, for stances (one per response and proposal)."""
    if not stances:
        return 0
    response_ids = [s.response_id for s in stances]
    await _lock_responses(session, response_ids)
    retired = list(
        await session.execute(
            RETIRE_MODEL_STANCES,
            {"response_ids": response_ids, "proposal_id": proposal_id, "run_id": run_id},
        )
    )
    result = await session.execute(
        INSERT_MODEL_STANCES,
        {
            "proposal_id": proposal_id,
            "run_id": run_id,
            "answer_ids": [s.answer_id for s in stances],
            "response_ids": response_ids,
            "values": [StanceValue(s.value).value for s in stances],
            "confidence": [s.confidence for s in stances],
            "evidence": [json.dumps(s.evidence) for s in stances],
            "old_ids": [r[0] for r in retired],
            "old_responses": [r[1] for r in retired],
        },
    )
    return int(getattr(result, "rowcount", 0) or 0)

"""Challenges: raising, the thread, withdrawing, and the analyst's decision.

Who may do what (admins may do everything; everyone else must be a member of the
consultation):
- reviewers raise challenges and withdraw their own while they are open;
- analysts accept (the change is applied) or reject (a reason is required);
- reviewers and analysts read every challenge of the consultation and write messages in any
  thread, also after the decision (a decided challenge itself never changes again).

Accepting applies the change:
- a coding: the final set of themes (the reviewer's proposal, or the analyst's own set) is
  recorded as a human coding of the answer in the proposal's *current* published codeframe
  through `app.coding.service.set_codes` (new decisions supersede, nothing is updated); the
  ids of the decisions it wrote are kept in `applied.coding_ids`;
- a theme definition: the new label/description goes into the proposal's draft codeframe
  (a new draft based on the published version is made when there is none) through
  `app.codeframes.service`; `applied_codeframe_id` links that version. Publishing it stays
  the analyst's separate step, since publishing carries every coding forward and a draft may
  gather several changes;
- a figure: nothing is changed automatically; the resolution says what was corrected.
Every state change and message is an audit event (entity "challenge").
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Actor, record_event
from app.challenges.models import (
    Challenge,
    ChallengeKind,
    ChallengeMessage,
    ChallengeStatus,
    MessageKind,
)
from app.challenges.schemas import (
    AcceptIn,
    ChallengeDetail,
    ChallengeIn,
    ChallengeOut,
    ChallengeSummary,
    CodingChallengeIn,
    FigureChallengeIn,
    MessageIn,
    MessageOut,
    PersonOut,
    ProposalCounts,
    RejectIn,
    StatusCounts,
    ThemeChallengeIn,
    WithdrawIn,
)
from app.codeframes import service as codeframes_service
from app.codeframes.models import Codeframe, Theme
from app.codeframes.schemas import CodeframeCreate, RenameOp, ThemeUpdate
from app.coding import service as coding_service
from app.coding.models import Coding
from app.coding.schemas import CodesIn
from app.consultations.models import Consultation, Proposal, Question
from app.consultations.service import get_consultation, list_consultations, require_access
from app.enums import CodeframeStatus, Role
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from app.responses.models import Answer
from app.samples.models import Review, SampleItem
from app.users.models import Membership, User

READERS = (Role.analyst, Role.reviewer)


class ChallengeNotOpen(Conflict):
    code = "challenge_not_open"
    message = "This challenge is no longer open: it was already decided or withdrawn."


class ChallengeCannotApply(Conflict):
    code = "challenge_cannot_apply"
    message = "The change this challenge proposes cannot be applied now."


class ReasonRequired(ValidationFailed):
    code = "reason_required"
    message = "Give a reason."


class NothingProposed(ValidationFailed):
    code = "nothing_proposed"
    message = "The proposed alternative is the same as what stands now."


# --------------------------------------------------------------------------------------
# Access and loading
# --------------------------------------------------------------------------------------


async def _consultation(
    session: AsyncSession, *, slug: str, user: User, roles: tuple[Role, ...], action: str
) -> Consultation:
    consultation = await get_consultation(session, slug=slug, user=user, structure=False)
    await require_access(session, consultation=consultation, user=user, roles=roles, action=action)
    return consultation


async def _challenge(
    session: AsyncSession,
    *,
    challenge_id: uuid.UUID,
    user: User,
    roles: tuple[Role, ...],
    action: str,
    lock: bool = False,
) -> tuple[Challenge, Consultation]:
    query = select(Challenge).where(Challenge.id == challenge_id)
    if lock:
        query = query.with_for_update()
    challenge = await session.scalar(query.execution_options(populate_existing=True))
    if challenge is None:
        raise NotFound("No such challenge.")
    consultation = await session.get(Consultation, challenge.consultation_id)
    assert consultation is not None
    # Readers first: an outsider learns nothing (403, or 404 while the consultation is a draft).
    await require_access(
        session,
        consultation=consultation,
        user=user,
        roles=READERS,
        action="read challenges",
        missing="No such challenge.",
    )
    await require_access(session, consultation=consultation, user=user, roles=roles, action=action)
    return challenge, consultation


async def _names(session: AsyncSession, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, User]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u for u in await session.scalars(select(User).where(User.id.in_(wanted)))}


def _person(users: dict[uuid.UUID, User], user_id: uuid.UUID | None, role: str = "") -> PersonOut:
    user = users.get(user_id) if user_id else None
    if user is None:
        return PersonOut(id=None, name="a former user", role=role)
    return PersonOut(id=user.id, name=user.name or user.email, role=role or user.role.value)


async def _outs(
    session: AsyncSession, challenges: Sequence[Challenge], slug: str
) -> list[ChallengeOut]:
    if not challenges:
        return []
    ids = [c.id for c in challenges]
    proposals = {
        p.id: p.title
        for p in await session.scalars(
            select(Proposal).where(Proposal.id.in_({c.proposal_id for c in challenges}))
        )
    }
    versions: dict[uuid.UUID, int] = {
        cid: version
        for cid, version in await session.execute(
            select(Codeframe.id, Codeframe.version).where(
                Codeframe.id.in_({c.codeframe_id for c in challenges})
            )
        )
    }
    counts: dict[uuid.UUID, int] = {
        cid: n
        for cid, n in await session.execute(
            select(ChallengeMessage.challenge_id, func.count())
            .where(ChallengeMessage.challenge_id.in_(ids))
            .group_by(ChallengeMessage.challenge_id)
        )
    }
    users = await _names(
        session, {c.raised_by for c in challenges} | {c.decided_by for c in challenges}
    )
    return [
        ChallengeOut(
            id=c.id,
            consultation_slug=slug,
            kind=c.kind,
            status=c.status,
            proposal_id=c.proposal_id,
            proposal_title=proposals.get(c.proposal_id) if c.proposal_id else None,
            answer_id=c.answer_id,
            codeframe_id=c.codeframe_id,
            codeframe_version=versions.get(c.codeframe_id) if c.codeframe_id else None,
            theme_code=c.theme_code,
            figure=c.figure,
            reason=c.reason,
            proposed=c.proposed,
            snapshot=c.snapshot,
            raised_by=_person(users, c.raised_by),
            created_at=c.created_at,
            decided_by=_person(users, c.decided_by) if c.decided_at else None,
            decided_at=c.decided_at,
            resolution=c.resolution,
            applied=c.applied,
            message_count=counts.get(c.id, 0),
        )
        for c in challenges
    ]


async def _detail(
    session: AsyncSession, challenge: Challenge, consultation: Consultation
) -> ChallengeDetail:
    await session.refresh(challenge)
    (out,) = await _outs(session, [challenge], consultation.slug)
    messages = list(
        await session.scalars(
            select(ChallengeMessage)
            .where(ChallengeMessage.challenge_id == challenge.id)
            .order_by(ChallengeMessage.created_at, ChallengeMessage.id)
        )
    )
    users = await _names(session, {m.author_id for m in messages})
    answer_text = None
    if challenge.answer_id is not None:
        # Redacted text only: reviewers never see what the respondent typed verbatim.
        answer_text = await session.scalar(
            select(Answer.redacted_text).where(Answer.id == challenge.answer_id)
        )
    return ChallengeDetail(
        **out.model_dump(),
        answer_text=answer_text,
        messages=[
            MessageOut(
                id=m.id,
                kind=m.kind,
                author=_person(users, m.author_id, m.author_role),
                body=m.body,
                created_at=m.created_at,
            )
            for m in messages
        ],
    )


def _state(challenge: Challenge) -> dict[str, Any]:
    return {
        "status": challenge.status.value,
        "resolution": challenge.resolution,
        "applied": challenge.applied,
    }


async def _audit(
    session: AsyncSession,
    action: str,
    challenge: Challenge,
    user: User,
    before: Any,
    after: Any,
) -> None:
    await record_event(
        session,
        action=action,
        entity_type="challenge",
        entity_id=challenge.id,
        before=before,
        after=after,
        actor=Actor.for_user(user),
        consultation_id=challenge.consultation_id,
    )


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


async def list_challenges(
    session: AsyncSession,
    *,
    slug: str,
    user: User,
    status: ChallengeStatus | None = None,
    kind: ChallengeKind | None = None,
    proposal_id: uuid.UUID | None = None,
) -> list[ChallengeOut]:
    consultation = await _consultation(
        session, slug=slug, user=user, roles=READERS, action="read challenges"
    )
    query = select(Challenge).where(Challenge.consultation_id == consultation.id)
    if status is not None:
        query = query.where(Challenge.status == status)
    if kind is not None:
        query = query.where(Challenge.kind == kind)
    if proposal_id is not None:
        query = query.where(Challenge.proposal_id == proposal_id)
    rows = list(await session.scalars(query.order_by(Challenge.created_at.desc(), Challenge.id)))
    return await _outs(session, rows, consultation.slug)


def _counts(counter: Counter[str]) -> StatusCounts:
    return StatusCounts(
        **{s.value: counter[s.value] for s in ChallengeStatus}, total=counter.total()
    )


async def summary(session: AsyncSession, *, slug: str, user: User) -> ChallengeSummary:
    consultation = await _consultation(
        session, slug=slug, user=user, roles=READERS, action="read challenges"
    )
    rows = await session.execute(
        select(Challenge.proposal_id, Challenge.kind, Challenge.status, func.count())
        .where(Challenge.consultation_id == consultation.id)
        .group_by(Challenge.proposal_id, Challenge.kind, Challenge.status)
    )
    overall: Counter[str] = Counter()
    by_kind: dict[str, Counter[str]] = {k.value: Counter() for k in ChallengeKind}
    by_proposal: dict[uuid.UUID | None, Counter[str]] = defaultdict(Counter)
    for proposal_id, kind, status, n in rows:
        overall[status.value] += n
        by_kind[kind.value][status.value] += n
        by_proposal[proposal_id][status.value] += n
    proposals = list(
        await session.scalars(
            select(Proposal)
            .where(Proposal.consultation_id == consultation.id)
            .order_by(Proposal.position)
        )
    )
    out = [
        ProposalCounts(proposal_id=p.id, title=p.title, counts=_counts(by_proposal[p.id]))
        for p in proposals
    ]
    if None in by_proposal:
        out.append(
            ProposalCounts(
                proposal_id=None,
                title="The consultation as a whole",
                counts=_counts(by_proposal[None]),
            )
        )
    return ChallengeSummary(
        consultation_slug=consultation.slug,
        counts=_counts(overall),
        by_kind={k: _counts(c) for k, c in by_kind.items()},
        proposals=out,
    )


async def get_challenge(
    session: AsyncSession, *, challenge_id: uuid.UUID, user: User
) -> ChallengeDetail:
    challenge, consultation = await _challenge(
        session, challenge_id=challenge_id, user=user, roles=READERS, action="read challenges"
    )
    return await _detail(session, challenge, consultation)


# --------------------------------------------------------------------------------------
# Raising
# --------------------------------------------------------------------------------------


async def _answer_in(
    session: AsyncSession, consultation: Consultation, answer_id: uuid.UUID
) -> tuple[Answer, Proposal]:
    row = (
        await session.execute(
            select(Answer, Proposal)
            .join(Question, Question.id == Answer.question_id)
            .join(Proposal, Proposal.id == Question.proposal_id)
            .where(Answer.id == answer_id, Proposal.consultation_id == consultation.id)
        )
    ).first()
    if row is None:
        raise NotFound("No such answer in this consultation.")
    return row[0], row[1]


async def _themes(session: AsyncSession, codeframe_id: uuid.UUID) -> list[Theme]:
    return list(
        await session.scalars(
            select(Theme).where(Theme.codeframe_id == codeframe_id).order_by(Theme.position)
        )
    )


async def _present_codes(
    session: AsyncSession, answer_id: uuid.UUID, codeframe_id: uuid.UUID
) -> dict[str, Coding]:
    """Current decisions of the answer in the codeframe, by theme code."""
    rows = await session.execute(
        select(Theme.code, Coding)
        .join(Theme, Theme.id == Coding.theme_id)
        .where(
            Coding.answer_id == answer_id,
            Coding.codeframe_id == codeframe_id,
            Coding.is_current,
        )
        .execution_options(populate_existing=True)
    )
    return {code: coding for code, coding in rows}


async def _codeframe_for(
    session: AsyncSession, proposal: Proposal, codeframe_id: uuid.UUID | None, loc: str
) -> Codeframe:
    if codeframe_id is None:
        codeframe = await codeframes_service.published_codeframe(session, proposal.id)
        if codeframe is None:
            raise coding_service.CodeframeNotPublished(
                "This proposal has no published codeframe, so there is no coding to challenge."
            )
        return codeframe
    codeframe = await session.get(Codeframe, codeframe_id)
    if codeframe is None or codeframe.proposal_id != proposal.id:
        raise coding_service.WrongCodeframe(
            fields=[field_error([loc], "Not a codeframe version of this proposal.")]
        )
    return codeframe


def _unknown(codes: Sequence[str], known: set[str], loc: str, version: int) -> None:
    bad = [
        field_error(
            [loc, i] if loc == "proposed_themes" else [loc], f"No theme {c} in version {version}."
        )
        for i, c in enumerate(codes)
        if c not in known
    ]
    if bad:
        raise coding_service.UnknownTheme(fields=bad)


class ReviewFirst(Conflict):
    code = "review_first"
    message = (
        "This answer is in an audit sample you have not reviewed yet: code it blind there "
        "first; its current codes are shown after you submit."
    )


async def _guard_blind_review(session: AsyncSession, answer_id: uuid.UUID, user: User) -> None:
    """A reviewer sees an answer's codes (here: in the form and the challenge's snapshot)
    only once they have reviewed it, when it is in an audit sample."""
    if user.role != Role.reviewer:
        return
    in_sample = await session.scalar(
        select(func.count()).select_from(SampleItem).where(SampleItem.answer_id == answer_id)
    )
    if not in_sample:
        return
    reviewed = await session.scalar(
        select(func.count())
        .select_from(Review)
        .join(SampleItem, SampleItem.id == Review.item_id)
        .where(SampleItem.answer_id == answer_id, Review.reviewer_id == user.id)
    )
    if not reviewed:
        raise ReviewFirst()


async def _raise_coding(
    session: AsyncSession, consultation: Consultation, data: CodingChallengeIn, user: User
) -> Challenge:
    answer, proposal = await _answer_in(session, consultation, data.answer_id)
    await _guard_blind_review(session, answer.id, user)
    codeframe = await _codeframe_for(session, proposal, data.codeframe_id, "codeframe_id")
    known = {t.code for t in await _themes(session, codeframe.id)}
    _unknown([data.theme], known, "theme", codeframe.version)
    _unknown(data.proposed_themes, known, "proposed_themes", codeframe.version)
    current = await _present_codes(session, answer.id, codeframe.id)
    now_present = sorted(code for code, c in current.items() if c.present)
    proposed = sorted(set(data.proposed_themes))
    if proposed == now_present:
        raise NothingProposed(
            fields=[field_error(["proposed_themes"], "Propose a different set of themes.")]
        )
    decision = current.get(data.theme)
    return Challenge(
        consultation_id=consultation.id,
        proposal_id=proposal.id,
        kind=ChallengeKind.coding,
        answer_id=answer.id,
        codeframe_id=codeframe.id,
        theme_code=data.theme,
        reason=data.reason.strip(),
        proposed={"themes": proposed},
        snapshot={
            "codeframe_version": codeframe.version,
            "themes": now_present,
            "decision": None
            if decision is None
            else {
                "present": decision.present,
                "source": decision.source.value,
                "confidence": decision.confidence,
            },
        },
    )


async def _raise_theme(
    session: AsyncSession, consultation: Consultation, data: ThemeChallengeIn
) -> Challenge:
    codeframe = await session.get(Codeframe, data.codeframe_id)
    proposal = await session.get(Proposal, codeframe.proposal_id) if codeframe else None
    if codeframe is None or proposal is None or proposal.consultation_id != consultation.id:
        raise NotFound("No such codeframe in this consultation.")
    themes = {t.code: t for t in await _themes(session, codeframe.id)}
    _unknown([data.theme], set(themes), "theme", codeframe.version)
    theme = themes[data.theme]
    proposed: dict[str, Any] = {}
    if data.proposed_label is not None and data.proposed_label.strip() != theme.label:
        proposed["label"] = data.proposed_label.strip()
    if data.proposed_description is not None and data.proposed_description.strip() != (
        theme.description
    ):
        proposed["description"] = data.proposed_description.strip()
    if not proposed:
        raise NothingProposed(
            fields=[field_error(["proposed_label"], "Propose a new label or description.")]
        )
    return Challenge(
        consultation_id=consultation.id,
        proposal_id=proposal.id,
        kind=ChallengeKind.theme,
        codeframe_id=codeframe.id,
        theme_code=theme.code,
        reason=data.reason.strip(),
        proposed=proposed,
        snapshot={
            "codeframe_version": codeframe.version,
            "label": theme.label,
            "description": theme.description,
        },
    )


async def _raise_figure(
    session: AsyncSession, consultation: Consultation, data: FigureChallengeIn
) -> Challenge:
    if data.proposal_id is not None:
        proposal = await session.get(Proposal, data.proposal_id)
        if proposal is None or proposal.consultation_id != consultation.id:
            raise ValidationFailed(
                fields=[field_error(["proposal_id"], "Not a proposal of this consultation.")]
            )
    return Challenge(
        consultation_id=consultation.id,
        proposal_id=data.proposal_id,
        kind=ChallengeKind.figure,
        theme_code=data.theme,
        figure=data.figure.strip(),
        reason=data.reason.strip(),
        proposed={"text": data.proposed_text.strip()},
        snapshot={},
    )


async def raise_challenge(
    session: AsyncSession, *, slug: str, user: User, data: ChallengeIn
) -> ChallengeDetail:
    consultation = await _consultation(
        session, slug=slug, user=user, roles=(Role.reviewer,), action="raise challenges"
    )
    if not data.reason.strip():
        raise ReasonRequired(fields=[field_error(["reason"], "Say why you challenge this.")])
    if isinstance(data, CodingChallengeIn):
        challenge = await _raise_coding(session, consultation, data, user)
    elif isinstance(data, ThemeChallengeIn):
        challenge = await _raise_theme(session, consultation, data)
    else:
        challenge = await _raise_figure(session, consultation, data)
    challenge.raised_by = user.id
    challenge.status = ChallengeStatus.open
    session.add(challenge)
    await session.flush()
    await _audit(
        session,
        "challenge.raise",
        challenge,
        user,
        None,
        {
            "status": "open",
            "kind": challenge.kind.value,
            "proposal_id": challenge.proposal_id,
            "answer_id": challenge.answer_id,
            "codeframe_id": challenge.codeframe_id,
            "theme": challenge.theme_code,
            "figure": challenge.figure,
            "reason": challenge.reason,
            "proposed": challenge.proposed,
            "snapshot": challenge.snapshot,
        },
    )
    return await _detail(session, challenge, consultation)


# --------------------------------------------------------------------------------------
# The thread and the decisions
# --------------------------------------------------------------------------------------


def _message(challenge: Challenge, user: User, kind: MessageKind, body: str) -> ChallengeMessage:
    return ChallengeMessage(
        challenge_id=challenge.id,
        author_id=user.id,
        author_role=user.role.value,
        kind=kind,
        body=body,
    )


async def add_message(
    session: AsyncSession, *, challenge_id: uuid.UUID, user: User, data: MessageIn
) -> ChallengeDetail:
    challenge, consultation = await _challenge(
        session, challenge_id=challenge_id, user=user, roles=READERS, action="reply to challenges"
    )
    body = data.body.strip()
    if not body:
        raise ValidationFailed(
            "The message is empty.", fields=[field_error(["body"], "Write a message.")]
        )
    message = _message(challenge, user, MessageKind.reply, body)
    session.add(message)
    await session.flush()
    await _audit(
        session,
        "challenge.message",
        challenge,
        user,
        None,
        {"message_id": message.id, "status": challenge.status.value, "body": body},
    )
    return await _detail(session, challenge, consultation)


def _require_open(challenge: Challenge) -> None:
    if challenge.status != ChallengeStatus.open:
        raise ChallengeNotOpen(
            f"This challenge is {challenge.status.value}; only open challenges can change."
        )


async def _decide(
    session: AsyncSession,
    challenge: Challenge,
    consultation: Consultation,
    user: User,
    *,
    status: ChallengeStatus,
    resolution: str,
    message: str,
    before: dict[str, Any],
) -> ChallengeDetail:
    """Records the decision, its message in the thread and its audit event."""
    challenge.status = status
    challenge.decided_by = user.id
    challenge.decided_at = datetime.now(UTC)
    challenge.resolution = resolution
    session.add(_message(challenge, user, MessageKind(status.value), message))
    await session.flush()
    await _audit(
        session, f"challenge.{_ACTIONS[status]}", challenge, user, before, _state(challenge)
    )
    return await _detail(session, challenge, consultation)


_ACTIONS = {
    ChallengeStatus.withdrawn: "withdraw",
    ChallengeStatus.rejected: "reject",
    ChallengeStatus.accepted: "accept",
}


async def withdraw(
    session: AsyncSession, *, challenge_id: uuid.UUID, user: User, data: WithdrawIn
) -> ChallengeDetail:
    challenge, consultation = await _challenge(
        session,
        challenge_id=challenge_id,
        user=user,
        roles=(Role.reviewer,),
        action="withdraw challenges",
        lock=True,
    )
    if user.role != Role.admin and challenge.raised_by != user.id:
        raise Forbidden("Only the reviewer who raised a challenge can withdraw it.")
    _require_open(challenge)
    note = data.note.strip()
    return await _decide(
        session,
        challenge,
        consultation,
        user,
        status=ChallengeStatus.withdrawn,
        resolution=note,
        message=note or "Withdrawn.",
        before=_state(challenge),
    )


async def reject(
    session: AsyncSession, *, challenge_id: uuid.UUID, user: User, data: RejectIn
) -> ChallengeDetail:
    challenge, consultation = await _challenge(
        session,
        challenge_id=challenge_id,
        user=user,
        roles=(Role.analyst,),
        action="decide challenges",
        lock=True,
    )
    reason = data.reason.strip()
    if not reason:
        raise ReasonRequired(
            "A rejection needs a reason; nothing was changed.",
            fields=[field_error(["reason"], "Say why the challenge is rejected.", "required")],
        )
    _require_open(challenge)
    return await _decide(
        session,
        challenge,
        consultation,
        user,
        status=ChallengeStatus.rejected,
        resolution=reason,
        message=reason,
        before=_state(challenge),
    )


async def _apply_coding(
    session: AsyncSession, challenge: Challenge, user: User, data: AcceptIn
) -> dict[str, Any]:
    assert challenge.answer_id is not None and challenge.proposal_id is not None
    codeframe = await codeframes_service.published_codeframe(session, challenge.proposal_id)
    if codeframe is None:
        raise ChallengeCannotApply("The proposal has no published codeframe to code against.")
    themes = sorted(set(data.themes if data.themes is not None else challenge.proposed["themes"]))
    before = await _present_codes(session, challenge.answer_id, codeframe.id)
    await coding_service.set_codes(
        session,
        answer_id=challenge.answer_id,
        user=user,
        data=CodesIn(codeframe_id=codeframe.id, themes=themes),
        evidence={"challenge_id": str(challenge.id)},
    )
    after = await _present_codes(session, challenge.answer_id, codeframe.id)
    old_ids = {c.id for c in before.values()}
    return {
        "codeframe_id": str(codeframe.id),
        "codeframe_version": codeframe.version,
        "themes_before": sorted(code for code, c in before.items() if c.present),
        "themes": themes,
        "coding_ids": sorted(str(c.id) for c in after.values() if c.id not in old_ids),
    }


async def _apply_theme(
    session: AsyncSession, challenge: Challenge, user: User, data: AcceptIn
) -> dict[str, Any]:
    assert challenge.proposal_id is not None and challenge.theme_code is not None
    published = await codeframes_service.published_codeframe(session, challenge.proposal_id)
    if published is None:
        raise ChallengeCannotApply("The proposal has no published codeframe to change.")
    label = data.label if data.label is not None else challenge.proposed.get("label")
    description = (
        data.description if data.description is not None else challenge.proposed.get("description")
    )
    draft = await session.scalar(
        select(Codeframe).where(
            Codeframe.proposal_id == challenge.proposal_id,
            Codeframe.status == CodeframeStatus.draft,
        )
    )
    if draft is None:
        out = await codeframes_service.create_codeframe(
            session,
            proposal_id=challenge.proposal_id,
            user=user,
            data=CodeframeCreate(
                based_on=published.id,
                operations=[
                    RenameOp(
                        op="rename", code=challenge.theme_code, label=label, description=description
                    )
                ],
            ),
        )
        made = True
    else:
        if draft.based_on_id != published.id:
            raise ChallengeCannotApply(
                f"The proposal's draft codeframe (version {draft.version}) is not based on the "
                "published version; publish or finish it first."
            )
        try:
            out = await codeframes_service.update_theme(
                session,
                codeframe_id=draft.id,
                code=challenge.theme_code,
                user=user,
                data=ThemeUpdate(label=label, description=description),
            )
        except NotFound:
            raise ChallengeCannotApply(
                f"Theme {challenge.theme_code} is not in the draft codeframe "
                f"(version {draft.version})."
            ) from None
        made = False
    challenge.applied_codeframe_id = out.id
    return {
        "codeframe_id": str(out.id),
        "codeframe_version": out.version,
        "new_draft": made,
        "theme": challenge.theme_code,
        "label": label,
        "description": description,
    }


async def accept(
    session: AsyncSession, *, challenge_id: uuid.UUID, user: User, data: AcceptIn
) -> ChallengeDetail:
    challenge, consultation = await _challenge(
        session,
        challenge_id=challenge_id,
        user=user,
        roles=(Role.analyst,),
        action="decide challenges",
        lock=True,
    )
    _require_open(challenge)
    before = _state(challenge)
    if challenge.kind == ChallengeKind.coding:
        applied = await _apply_coding(session, challenge, user, data)
    elif challenge.kind == ChallengeKind.theme:
        applied = await _apply_theme(session, challenge, user, data)
    else:
        applied = {}
    resolution = data.resolution.strip()
    challenge.applied = applied
    return await _decide(
        session,
        challenge,
        consultation,
        user,
        status=ChallengeStatus.accepted,
        resolution=resolution,
        message=resolution or "Accepted.",
        before=before,
    )


# --------------------------------------------------------------------------------------
# For the pages
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actions:
    reply: bool
    withdraw: bool
    decide: bool


def actions_for(user: User, challenge: ChallengeOut) -> Actions:
    """What the thread page offers this (already authorised) reader."""
    is_open = challenge.status == ChallengeStatus.open
    admin = user.role == Role.admin
    return Actions(
        reply=True,
        withdraw=is_open
        and (admin or (user.role == Role.reviewer and challenge.raised_by.id == user.id)),
        decide=is_open and user.role in (Role.admin, Role.analyst),
    )


async def my_consultations(session: AsyncSession, *, user: User) -> list[Consultation]:
    """Consultations whose challenges this user may read (admins: every visible one)."""
    visible = await list_consultations(session, user=user)
    if user.role == Role.admin:
        return visible
    member = set(
        await session.scalars(
            select(Membership.consultation_id).where(Membership.user_id == user.id)
        )
    )
    return [c for c in visible if c.id in member and user.role in READERS]


@dataclass(frozen=True)
class CodingForm:
    consultation: Consultation
    proposal: Proposal
    answer_id: uuid.UUID
    answer_text: str
    codeframe: Codeframe
    themes: list[Theme]
    present: list[str]
    theme: str | None


async def coding_form(
    session: AsyncSession,
    *,
    answer_id: uuid.UUID,
    theme: str | None,
    user: User,
    codeframe_id: uuid.UUID | None = None,
) -> CodingForm:
    """What the "challenge this coding" form shows: the redacted answer, the published
    codeframe's themes and the themes currently coded present."""
    row = (
        await session.execute(
            select(Answer, Proposal, Consultation)
            .join(Question, Question.id == Answer.question_id)
            .join(Proposal, Proposal.id == Question.proposal_id)
            .join(Consultation, Consultation.id == Proposal.consultation_id)
            .where(Answer.id == answer_id)
        )
    ).first()
    if row is None:
        raise NotFound("No such answer.")
    answer, proposal, consultation = row
    await require_access(
        session,
        consultation=consultation,
        user=user,
        roles=(Role.reviewer,),
        action="raise challenges",
        missing="No such answer.",
    )
    await _guard_blind_review(session, answer.id, user)
    codeframe = await _codeframe_for(session, proposal, codeframe_id, "codeframe_id")
    themes = await _themes(session, codeframe.id)
    current = await _present_codes(session, answer.id, codeframe.id)
    return CodingForm(
        consultation=consultation,
        proposal=proposal,
        answer_id=answer.id,
        answer_text=answer.redacted_text or "",
        codeframe=codeframe,
        themes=themes,
        present=[t.code for t in themes if (c := current.get(t.code)) and c.present],
        theme=theme if theme in {t.code for t in themes} else None,
    )


async def codeframe_status(session: AsyncSession, codeframe_id: uuid.UUID) -> str | None:
    status = await session.scalar(select(Codeframe.status).where(Codeframe.id == codeframe_id))
    return status.value if status is not None else None


@dataclass(frozen=True)
class ListView:
    consultations: list[Consultation]
    consultation: Consultation | None
    summary: ChallengeSummary | None
    challenges: list[ChallengeOut]
    # (proposal title, published codeframe id): where a theme definition can be challenged.
    codeframes: list[tuple[str, uuid.UUID]] = field(default_factory=list)


async def list_view(
    session: AsyncSession, *, user: User, slug: str | None, status: ChallengeStatus | None
) -> ListView:
    """The list page: the user's consultations, the chosen one's counts and challenges."""
    consultations = await my_consultations(session, user=user)
    if slug is None:
        if not consultations:
            return ListView(consultations, None, None, [])
        slug = consultations[0].slug
    counts = await summary(session, slug=slug, user=user)
    challenges = await list_challenges(session, slug=slug, user=user, status=status)
    chosen = next((c for c in consultations if c.slug == slug), None)
    if chosen is None:  # an admin looking at a consultation outside the visible list
        chosen = await get_consultation(session, slug=slug, user=user, structure=False)
    codeframes = [
        (title, codeframe_id)
        for title, codeframe_id in await session.execute(
            select(Proposal.title, Codeframe.id)
            .join(Codeframe, Codeframe.proposal_id == Proposal.id)
            .where(
                Proposal.consultation_id == chosen.id,
                Codeframe.status == CodeframeStatus.published,
            )
            .order_by(Proposal.position)
        )
    ]
    return ListView(consultations, chosen, counts, challenges, codeframes)


@dataclass(frozen=True)
class NewForm:
    kind: str
    consultation: Consultation
    proposal: Proposal | None = None
    proposals: list[Proposal] | None = None
    answer_id: uuid.UUID | None = None
    answer_text: str = ""
    codeframe: Codeframe | None = None
    themes: list[Theme] | None = None
    present: list[str] | None = None
    theme: Theme | None = None


def _uuid(value: str | None, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"No such {what}.") from None


async def new_form(
    session: AsyncSession,
    *,
    user: User,
    kind: str,
    answer_id: str | None = None,
    codeframe_id: str | None = None,
    theme: str | None = None,
    slug: str | None = None,
) -> NewForm:
    """What the "raise a challenge" form shows, for a coding, a theme or a figure."""
    if kind == ChallengeKind.coding:
        form = await coding_form(
            session,
            answer_id=_uuid(answer_id, "answer"),
            theme=theme,
            user=user,
            codeframe_id=_uuid(codeframe_id, "codeframe") if codeframe_id else None,
        )
        chosen = next((t for t in form.themes if t.code == form.theme), None)
        return NewForm(
            kind="coding",
            consultation=form.consultation,
            proposal=form.proposal,
            answer_id=form.answer_id,
            answer_text=form.answer_text,
            codeframe=form.codeframe,
            themes=form.themes,
            present=form.present,
            theme=chosen,
        )
    if kind == ChallengeKind.theme:
        codeframe = await session.get(Codeframe, _uuid(codeframe_id, "codeframe"))
        if codeframe is None:
            raise NotFound("No such codeframe.")
        proposal = await session.get(Proposal, codeframe.proposal_id)
        assert proposal is not None
        consultation = await session.get(Consultation, proposal.consultation_id)
        assert consultation is not None
        await require_access(
            session,
            consultation=consultation,
            user=user,
            roles=(Role.reviewer,),
            action="raise challenges",
            missing="No such codeframe.",
        )
        themes = await _themes(session, codeframe.id)
        return NewForm(
            kind="theme",
            consultation=consultation,
            proposal=proposal,
            codeframe=codeframe,
            themes=themes,
            theme=next((t for t in themes if t.code == theme), None),
        )
    consultation = await _consultation(
        session,
        slug=slug or "",
        user=user,
        roles=(Role.reviewer,),
        action="raise challenges",
    )
    proposals = list(
        await session.scalars(
            select(Proposal)
            .where(Proposal.consultation_id == consultation.id)
            .order_by(Proposal.position)
        )
    )
    return NewForm(kind="figure", consultation=consultation, proposals=proposals)


@dataclass(frozen=True)
class ThreadView:
    challenge: ChallengeDetail
    actions: Actions
    # Theme labels of the challenged version (code -> label), to show codes with their names.
    labels: dict[str, str]
    # For the analyst's accept form of a coding: the current published version's themes.
    accept_themes: list[Theme]
    # A theme challenge's draft version: its status now (draft, published, superseded).
    applied_status: str | None


async def thread_view(session: AsyncSession, *, challenge_id: uuid.UUID, user: User) -> ThreadView:
    detail = await get_challenge(session, challenge_id=challenge_id, user=user)
    actions = actions_for(user, detail)
    labels: dict[str, str] = {}
    if detail.codeframe_id is not None:
        labels = {t.code: t.label for t in await _themes(session, detail.codeframe_id)}
    accept_themes: list[Theme] = []
    if actions.decide and detail.kind == ChallengeKind.coding and detail.proposal_id:
        published = await codeframes_service.published_codeframe(session, detail.proposal_id)
        if published is not None:
            accept_themes = await _themes(session, published.id)
    applied_status = None
    if detail.applied.get("codeframe_id") and detail.kind == ChallengeKind.theme:
        applied_status = await codeframe_status(session, uuid.UUID(detail.applied["codeframe_id"]))
    return ThreadView(detail, actions, labels, accept_themes, applied_status)

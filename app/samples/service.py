"""Audit samples: drawing them reproducibly, blind review, agreement statistics.

Population of a sample: the answers of the proposal's questions that carry at least one
current decision in the sample's codeframe version, from responses that are neither
withdrawn nor excluded. Strata:

- ``theme``: the answer's main theme, its present theme with the highest confidence (a
  person's decision counts as 1.0; ties by theme order), or ``none``;
- ``respondent_kind``: ``individual`` or ``organisation``;
- ``confidence_band``: how sure the least sure model decision on the answer is,
  ``max(c, 1 - c)`` for a model confidence ``c``: ``low`` below 0.7, ``medium`` below 0.9,
  ``high`` otherwise; ``human`` when a person made every decision.

The draw itself is `analysis.sampling` (ids sorted first, so the same seed and the same
population give the same items). All statistics come from `analysis.agreement` and
`analysis.sampling`; nothing is computed here but the counts they take.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from analysis.agreement import (
    cohen_kappa_ci,
    multilabel_prf_ci,
    per_theme_agreement,
    percent_agreement_ci,
    wilson_estimate,
)
from analysis.sampling import (
    estimate_error_rate,
    sample_size_for_margin,
    simple_random_sample,
    stratified_sample,
)
from app.audit.service import Actor, record_event
from app.codeframes.models import Codeframe, Theme
from app.codeframes.service import published_codeframe
from app.consultations.models import Consultation, Proposal, Question
from app.consultations.service import require_access
from app.enums import Role, Stance
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from app.responses.models import Answer
from app.samples.models import AuditSample, Review, SampleDesign, SampleItem, Stratification
from app.samples.schemas import (
    AgreementOut,
    AnswerBrief,
    Comparison,
    ComparisonRow,
    ItemSummary,
    ItemView,
    OtherReview,
    ReviewIn,
    ReviewOut,
    SampleCreate,
    SampleOut,
    SampleProgress,
    SampleSizeOut,
    StanceComparison,
    ThemeBrief,
)
from app.users.models import Membership, User

N_RESAMPLES = 1000
ALL = "all"
NO_THEME = "none"
BANDS = ((0.7, "low"), (0.9, "medium"))


class NothingToSample(Conflict):
    code = "nothing_to_sample"
    message = "No coded answers to sample in this codeframe version."


class NoCodeframe(Conflict):
    code = "codeframe_not_published"
    message = "The proposal has no published codeframe: answers are coded against one."


class InvalidSample(ValidationFailed):
    code = "invalid_sample"
    message = "The sample cannot be drawn as asked."


class ReviewFinal(Conflict):
    code = "review_final"
    message = (
        "You already submitted a review of this item; a submitted review is final "
        "(raise a challenge to dispute the coding)."
    )


class UnknownTheme(ValidationFailed):
    code = "unknown_theme"
    message = "A theme code is not in the sample's codeframe version."


# --------------------------------------------------------------------------------------
# Access
# --------------------------------------------------------------------------------------


async def _proposal(
    session: AsyncSession, proposal_id: uuid.UUID, user: User | None, action: str
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
    proposal, consultation = row
    await require_access(
        session,
        consultation=consultation,
        user=user,
        roles=(Role.analyst, Role.reviewer),
        action=action,
        missing="No such proposal.",
    )
    return proposal, consultation


@dataclass
class _Loaded:
    sample: AuditSample
    proposal: Proposal
    consultation: Consultation
    codeframe: Codeframe


async def _sample(
    session: AsyncSession, sample_id: uuid.UUID, user: User, action: str = "see audit samples"
) -> _Loaded:
    row = (
        await session.execute(
            select(AuditSample, Proposal, Consultation, Codeframe)
            .join(Proposal, Proposal.id == AuditSample.proposal_id)
            .join(Consultation, Consultation.id == Proposal.consultation_id)
            .join(Codeframe, Codeframe.id == AuditSample.codeframe_id)
            .where(AuditSample.id == sample_id)
        )
    ).first()
    if row is None:
        raise NotFound("No such audit sample.")
    sample, proposal, consultation, codeframe = row
    await require_access(
        session,
        consultation=consultation,
        user=user,
        roles=(Role.analyst, Role.reviewer),
        action=action,
        missing="No such audit sample.",
    )
    return _Loaded(sample, proposal, consultation, codeframe)


def _is_reviewer(user: User) -> bool:
    return user.role == Role.reviewer


# --------------------------------------------------------------------------------------
# Population and strata
# --------------------------------------------------------------------------------------

_POPULATION = text(
    """
    SELECT c.answer_id,
           rp.kind AS respondent_kind,
           (array_agg(t.code ORDER BY coalesce(c.confidence, 1.0) DESC, t.position, t.code)
                FILTER (WHERE c.present))[1] AS main_theme,
           min(greatest(c.confidence, 1.0 - c.confidence))
                FILTER (WHERE c.source = 'model' AND c.confidence IS NOT NULL) AS certainty,
           bool_or(c.source = 'model') AS any_model
    FROM codings c
    JOIN themes t ON t.id = c.theme_id
    JOIN answers a ON a.id = c.answer_id
    JOIN responses r ON r.id = a.response_id
    JOIN respondents rp ON rp.id = r.respondent_id
    WHERE c.codeframe_id = :codeframe_id AND c.is_current AND r.status = 'received'
    GROUP BY c.answer_id, rp.kind
    """
)


def _band(certainty: float | None, any_model: bool) -> str:
    if certainty is None:
        return "human" if not any_model else "low"
    for limit, name in BANDS:
        if certainty < limit:
            return name
    return "high"


async def _population(
    session: AsyncSession, codeframe_id: uuid.UUID, stratify_by: Stratification | None
) -> list[tuple[str, str]]:
    rows = await session.execute(_POPULATION, {"codeframe_id": codeframe_id})
    out: list[tuple[str, str]] = []
    for answer_id, kind, main_theme, certainty, any_model in rows:
        if stratify_by == Stratification.theme:
            stratum = main_theme or NO_THEME
        elif stratify_by == Stratification.respondent_kind:
            stratum = str(kind)
        elif stratify_by == Stratification.confidence_band:
            stratum = _band(certainty, bool(any_model))
        else:
            stratum = ALL
        out.append((str(answer_id), stratum))
    return out


def population_hash(population: list[tuple[str, str]]) -> str:
    body = "\n".join(f"{i}\t{h}" for i, h in sorted(population))
    return hashlib.sha256(body.encode()).hexdigest()


async def _codeframe_for(
    session: AsyncSession, proposal: Proposal, codeframe_id: uuid.UUID | None
) -> Codeframe:
    if codeframe_id is None:
        codeframe = await published_codeframe(session, proposal.id)
        if codeframe is None:
            raise NoCodeframe()
        return codeframe
    codeframe = await session.get(Codeframe, codeframe_id)
    if codeframe is None or codeframe.proposal_id != proposal.id:
        raise InvalidSample(
            "The codeframe is not a version of this proposal's codeframe.",
            fields=[field_error(["codeframe_id"], "Not a codeframe version of this proposal.")],
        )
    return codeframe


async def sample_size(
    session: AsyncSession,
    *,
    proposal_id: uuid.UUID,
    user: User,
    margin: float,
    confidence: float,
    expected_rate: float,
) -> SampleSizeOut:
    """The sample size for a target margin, corrected for the current population."""
    proposal, _ = await _proposal(session, proposal_id, user, "see audit samples")
    codeframe = await _codeframe_for(session, proposal, None)
    population = len(await _population(session, codeframe.id, None))
    if population == 0:
        raise NothingToSample()
    size = sample_size_for_margin(margin, confidence, expected_rate, population=population)
    return SampleSizeOut(
        margin=margin,
        confidence=confidence,
        expected_rate=expected_rate,
        population=population,
        size=size,
        method=(
            "n0 = z^2 p (1 - p) / margin^2 with p = expected_rate, then Cochran's finite "
            "population correction n = n0 / (1 + (n0 - 1) / N), rounded up"
        ),
    )


# --------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------


def _interleave(
    drawn: list[tuple[str, str]], sizes: dict[str, int], seed: int
) -> list[tuple[str, str]]:
    """Review order: the r-th draw of stratum h gets the key (r + u) / n_h, with u in [0, 1)
    from SHA-256 of (seed, answer id). Reviewing any prefix of the sample then covers the
    strata in proportion, while the order does not reveal an item's stratum to a reviewer
    (who knows the seed and the stratum sizes but not the answer ids): with a fixed u the
    positions of a theme stratum, hence the current codes, could be worked out."""
    rank: dict[str, int] = defaultdict(int)
    keyed = []
    for answer_id, stratum in drawn:
        r = rank[stratum]
        rank[stratum] += 1
        digest = hashlib.sha256(f"{seed}:{answer_id}".encode()).digest()
        u = int.from_bytes(digest[:8], "big") / 2**64
        keyed.append(((r + u) / sizes[stratum], answer_id, stratum))
    keyed.sort()
    return [(answer_id, stratum) for _, answer_id, stratum in keyed]


async def _snapshot(
    session: AsyncSession, codeframe: Codeframe, proposal_id: uuid.UUID, answer_ids: list[str]
) -> dict[str, dict[str, Any]]:
    """Each answer's current decisions (and stance) in the codeframe version."""
    rows = await session.execute(
        text(
            """
            SELECT c.answer_id, t.code, c.present, c.source, c.confidence
            FROM codings c JOIN themes t ON t.id = c.theme_id
            WHERE c.codeframe_id = :cf AND c.is_current AND c.answer_id = ANY(:ids)
            ORDER BY t.position, t.code
            """
        ),
        {"cf": codeframe.id, "ids": [uuid.UUID(a) for a in answer_ids]},
    )
    out: dict[str, dict[str, Any]] = {
        a: {"present": [], "decisions": {}, "stance": None} for a in answer_ids
    }
    for answer_id, code, present, source, confidence in rows:
        entry = out[str(answer_id)]
        entry["decisions"][code] = {
            "present": present,
            "source": str(source),
            "confidence": confidence,
        }
        if present:
            entry["present"].append(code)
    stances = await session.execute(
        text(
            """
            SELECT a.id, s.value FROM answers a
            JOIN stances s ON s.response_id = a.response_id
            WHERE a.id = ANY(:ids) AND s.proposal_id = :proposal AND s.is_current
            """
        ),
        {"ids": [uuid.UUID(a) for a in answer_ids], "proposal": proposal_id},
    )
    for answer_id, value in stances:
        out[str(answer_id)]["stance"] = str(value)
    return out


async def draw_sample(
    session: AsyncSession, *, proposal_id: uuid.UUID, user: User | None, data: SampleCreate
) -> SampleOut:
    """Draws and stores a sample; `user` None is the operator at the command line."""
    proposal, consultation = await _proposal(session, proposal_id, user, "draw audit samples")
    codeframe = await _codeframe_for(session, proposal, data.codeframe_id)
    population = await _population(session, codeframe.id, data.stratify_by)
    n_pop = len(population)
    if n_pop == 0:
        raise NothingToSample(
            f"No coded answers to sample in codeframe version {codeframe.version}."
        )
    if data.size is not None:
        size = data.size
        if size > n_pop:
            raise InvalidSample(
                f"The sample cannot be larger than the {n_pop} coded answers.",
                fields=[field_error(["size"], f"At most {n_pop}.")],
            )
    else:
        assert data.margin is not None
        size = sample_size_for_margin(
            data.margin, data.confidence, data.expected_rate, population=n_pop
        )
    seed = data.seed if data.seed is not None else secrets.randbelow(2**32)
    min_per = 0
    if data.design == SampleDesign.simple:
        ids = simple_random_sample([i for i, _ in population], size, seed)
        ordered = [(i, ALL) for i in ids]
        population_sizes, sample_sizes = {ALL: n_pop}, {ALL: size}
        allocation = "proportional"
    else:
        min_per = 1 if data.min_per_stratum is None else data.min_per_stratum
        try:
            drawn = stratified_sample(population, size, seed, data.allocation, min_per)
        except ValueError as exc:
            raise InvalidSample(
                f"The sample cannot be drawn as asked: {exc}.",
                fields=[field_error(["size" if data.size else "margin"], str(exc))],
            ) from None
        population_sizes, sample_sizes = drawn.population_sizes, drawn.sample_sizes
        ordered = _interleave(drawn.items, sample_sizes, seed)
        allocation = data.allocation
    sample = AuditSample(
        proposal_id=proposal.id,
        codeframe_id=codeframe.id,
        design=data.design,
        stratify_by=data.stratify_by,
        allocation=allocation,
        min_per_stratum=min_per,
        requested_size=data.size,
        target_margin=data.margin,
        confidence=data.confidence,
        expected_rate=data.expected_rate if data.margin is not None else None,
        size=size,
        seed=seed,
        population=n_pop,
        population_sizes=population_sizes,
        sample_sizes=sample_sizes,
        population_hash=population_hash(population),
        drawn_by=user.id if user is not None else None,
    )
    session.add(sample)
    await session.flush()
    snapshot = await _snapshot(session, codeframe, proposal.id, [i for i, _ in ordered])
    session.add_all(
        SampleItem(
            sample_id=sample.id,
            answer_id=uuid.UUID(answer_id),
            stratum=stratum,
            position=position,
            codes=snapshot[answer_id],
        )
        for position, (answer_id, stratum) in enumerate(ordered, start=1)
    )
    await session.flush()
    await record_event(
        session,
        action="sample.draw",
        entity_type="audit_sample",
        entity_id=sample.id,
        before=None,
        after={
            "proposal_id": proposal.id,
            "codeframe_version": codeframe.version,
            "design": data.design,
            "stratify_by": data.stratify_by,
            "allocation": allocation,
            "min_per_stratum": min_per,
            "size": size,
            "target_margin": data.margin,
            "seed": seed,
            "population": n_pop,
            "population_hash": sample.population_hash,
            "sample_sizes": sample_sizes,
        },
        actor=Actor.for_user(user) if user is not None else Actor.system("consult audit sample"),
        consultation_id=consultation.id,
    )
    return await _sample_out(session, _Loaded(sample, proposal, consultation, codeframe), user)


# --------------------------------------------------------------------------------------
# Reading samples
# --------------------------------------------------------------------------------------


async def _progress(
    session: AsyncSession, sample: AuditSample, user: User | None
) -> SampleProgress:
    me = user.id if user is not None else uuid.UUID(int=0)
    row = (
        await session.execute(
            select(
                func.count(func.distinct(Review.item_id)),
                func.count(Review.id),
                func.count(func.distinct(Review.reviewer_id)),
                func.count(Review.id).filter(Review.reviewer_id == me),
            ).where(Review.sample_id == sample.id)
        )
    ).one()
    return SampleProgress(
        items=sample.size, reviewed_items=row[0], reviews=row[1], reviewers=row[2], mine=row[3]
    )


async def _sample_out(session: AsyncSession, loaded: _Loaded, user: User | None) -> SampleOut:
    s = loaded.sample
    await session.refresh(s)
    return SampleOut(
        id=s.id,
        proposal_id=s.proposal_id,
        proposal_title=loaded.proposal.title,
        consultation_slug=loaded.consultation.slug,
        consultation_title=loaded.consultation.title,
        codeframe_id=s.codeframe_id,
        codeframe_version=loaded.codeframe.version,
        design=s.design,
        stratify_by=s.stratify_by,
        allocation=s.allocation,
        min_per_stratum=s.min_per_stratum,
        requested_size=s.requested_size,
        target_margin=s.target_margin,
        confidence=s.confidence,
        expected_rate=s.expected_rate,
        size=s.size,
        seed=s.seed,
        population=s.population,
        population_sizes=dict(s.population_sizes),
        sample_sizes=dict(s.sample_sizes),
        population_hash=s.population_hash,
        drawn_by=s.drawn_by,
        created_at=s.created_at,
        progress=await _progress(session, s, user),
    )


async def get_sample(session: AsyncSession, *, sample_id: uuid.UUID, user: User) -> SampleOut:
    return await _sample_out(session, await _sample(session, sample_id, user), user)


async def list_samples(
    session: AsyncSession, *, proposal_id: uuid.UUID, user: User
) -> list[SampleOut]:
    proposal, consultation = await _proposal(session, proposal_id, user, "see audit samples")
    rows = await session.execute(
        select(AuditSample, Codeframe)
        .join(Codeframe, Codeframe.id == AuditSample.codeframe_id)
        .where(AuditSample.proposal_id == proposal.id)
        .order_by(AuditSample.created_at.desc())
    )
    return [
        await _sample_out(session, _Loaded(s, proposal, consultation, cf), user) for s, cf in rows
    ]


async def my_samples(session: AsyncSession, *, user: User) -> list[SampleOut]:
    """Every sample the user may see: admins all; others those of their consultations."""
    query = (
        select(AuditSample, Proposal, Consultation, Codeframe)
        .join(Proposal, Proposal.id == AuditSample.proposal_id)
        .join(Consultation, Consultation.id == Proposal.consultation_id)
        .join(Codeframe, Codeframe.id == AuditSample.codeframe_id)
        .order_by(Consultation.title, Proposal.position, AuditSample.created_at.desc())
    )
    if user.role != Role.admin:
        if user.role not in (Role.analyst, Role.reviewer):
            return []
        query = query.where(
            Consultation.id.in_(
                select(Membership.consultation_id).where(Membership.user_id == user.id)
            )
        )
    rows = list(await session.execute(query))
    return [await _sample_out(session, _Loaded(s, p, c, cf), user) for s, p, c, cf in rows]


async def list_items(
    session: AsyncSession, *, sample_id: uuid.UUID, user: User
) -> list[ItemSummary]:
    loaded = await _sample(session, sample_id, user)
    counts = dict(
        (
            await session.execute(
                select(Review.item_id, func.count())
                .where(Review.sample_id == loaded.sample.id)
                .group_by(Review.item_id)
            )
        ).all()
    )
    mine = set(
        await session.scalars(
            select(Review.item_id).where(
                Review.sample_id == loaded.sample.id, Review.reviewer_id == user.id
            )
        )
    )
    items = await session.scalars(
        select(SampleItem).where(SampleItem.sample_id == loaded.sample.id).order_by("position")
    )
    blind = _is_reviewer(user)
    return [
        ItemSummary(
            id=i.id,
            position=i.position,
            stratum=None if blind and i.id not in mine else i.stratum,
            reviews=counts.get(i.id, 0),
            reviewed_by_me=i.id in mine,
        )
        for i in items
    ]


# --------------------------------------------------------------------------------------
# Items and reviews
# --------------------------------------------------------------------------------------


async def _themes(session: AsyncSession, codeframe_id: uuid.UUID) -> list[Theme]:
    return list(
        await session.scalars(
            select(Theme)
            .where(Theme.codeframe_id == codeframe_id)
            .order_by(Theme.position, Theme.code)
        )
    )


async def _reviewer_labels(session: AsyncSession, sample_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """Reviewers numbered in the order of their first review of the sample."""
    rows = await session.execute(
        select(Review.reviewer_id, func.min(Review.submitted_at))
        .where(Review.sample_id == sample_id, Review.reviewer_id.is_not(None))
        .group_by(Review.reviewer_id)
        .order_by(func.min(Review.submitted_at), Review.reviewer_id)
    )
    return {rid: f"Reviewer {n}" for n, (rid, _) in enumerate(rows, start=1) if rid is not None}


async def _next_item(
    session: AsyncSession, sample_id: uuid.UUID, user: User, after: int = 0
) -> SampleItem | None:
    """The caller's first unreviewed item after position `after`, else the first one at all."""
    reviewed = select(Review.item_id).where(
        Review.sample_id == sample_id, Review.reviewer_id == user.id
    )
    base = select(SampleItem).where(
        SampleItem.sample_id == sample_id, SampleItem.id.not_in(reviewed)
    )
    item = await session.scalar(
        base.where(SampleItem.position > after).order_by(SampleItem.position).limit(1)
    )
    if item is None and after:
        item = await session.scalar(base.order_by(SampleItem.position).limit(1))
    return item


async def next_item(session: AsyncSession, *, sample_id: uuid.UUID, user: User) -> ItemView | None:
    """The caller's next item to review (in review order), or None when all are done."""
    loaded = await _sample(session, sample_id, user)
    item = await _next_item(session, loaded.sample.id, user)
    if item is None:
        return None
    return await _item_view(session, loaded, item, user)


async def get_item(
    session: AsyncSession, *, sample_id: uuid.UUID, item_id: uuid.UUID, user: User
) -> ItemView:
    loaded = await _sample(session, sample_id, user)
    item = await _item(session, loaded, item_id)
    return await _item_view(session, loaded, item, user)


async def _item(session: AsyncSession, loaded: _Loaded, item_id: uuid.UUID) -> SampleItem:
    item = await session.scalar(
        select(SampleItem).where(SampleItem.id == item_id, SampleItem.sample_id == loaded.sample.id)
    )
    if item is None:
        raise NotFound("No such item in this audit sample.")
    return item


def _review_out(review: Review) -> ReviewOut:
    return ReviewOut(
        id=review.id,
        themes=list(review.themes),
        stance=review.stance,
        submitted_at=review.submitted_at,
    )


async def _item_view(
    session: AsyncSession, loaded: _Loaded, item: SampleItem, user: User
) -> ItemView:
    row = (
        await session.execute(
            select(Answer.redacted_text, Question.number, Question.text)
            .join(Question, Question.id == Answer.question_id)
            .where(Answer.id == item.answer_id)
        )
    ).one()
    themes = await _themes(session, loaded.codeframe.id)
    codes_by_id = {t.id: t.code for t in themes}
    reviews = list(
        await session.scalars(
            select(Review)
            .where(Review.item_id == item.id)
            .order_by(Review.submitted_at)
            .execution_options(populate_existing=True)
        )
    )
    mine = next((r for r in reviews if r.reviewer_id == user.id), None)
    # A reviewer sees codes only after submitting; analysts and admins are not blind.
    blind = _is_reviewer(user) and mine is None
    comparison = None
    if not blind:
        labels = await _reviewer_labels(session, loaded.sample.id)
        others = [r for r in reviews if r is not mine]
        decisions = item.codes.get("decisions", {})
        # Model runs store absent decisions sparsely: a theme a model-coded answer has no
        # decision for was decided absent by the model (its confidence is not kept).
        by_model = (
            {"source": "model"}
            if any(d.get("source") == "model" for d in decisions.values())
            else {}
        )
        rows = []
        for t in themes:
            decision = decisions.get(t.code) or by_model
            current = bool(decision.get("present", False))
            yours = None if mine is None else t.code in mine.themes
            rows.append(
                ComparisonRow(
                    code=t.code,
                    label=t.label,
                    yours=yours,
                    current=current,
                    current_source=decision.get("source"),
                    current_confidence=decision.get("confidence"),
                    others=[
                        OtherReview(
                            reviewer=labels.get(r.reviewer_id, "Former reviewer")
                            if r.reviewer_id
                            else "Former reviewer",
                            present=t.code in r.themes,
                        )
                        for r in others
                    ],
                    agree=None if yours is None else yours == current,
                )
            )
        comparison = Comparison(
            codes_as_of=loaded.sample.created_at,
            rows=rows,
            agreed=sum(1 for r in rows if r.agree is True),
            disagreed=sum(1 for r in rows if r.agree is False),
            stance=StanceComparison(
                yours=mine.stance if mine else None,
                current=Stance(item.codes["stance"]) if item.codes.get("stance") else None,
                others={
                    labels.get(r.reviewer_id, "Former reviewer")
                    if r.reviewer_id
                    else "Former reviewer": r.stance
                    for r in others
                },
            ),
        )
    following = await _next_item(session, loaded.sample.id, user, after=item.position)
    if following is not None and following.id == item.id:
        following = None
    return ItemView(
        id=item.id,
        sample_id=loaded.sample.id,
        position=item.position,
        items=loaded.sample.size,
        blind=blind,
        stratum=None if blind else item.stratum,
        answer=AnswerBrief(
            question_number=row.number,
            question_text=row.text,
            redacted_text=row.redacted_text or "",
        ),
        themes=[
            ThemeBrief(
                code=t.code,
                label=t.label,
                description=t.description,
                include_guidance=t.include_guidance,
                exclude_guidance=t.exclude_guidance,
                parent_code=codes_by_id.get(t.parent_id) if t.parent_id else None,
            )
            for t in themes
        ],
        my_review=_review_out(mine) if mine else None,
        comparison=comparison,
        next_item_id=following.id if following is not None else None,
    )


async def submit_review(
    session: AsyncSession,
    *,
    sample_id: uuid.UUID,
    item_id: uuid.UUID,
    user: User,
    data: ReviewIn,
) -> ItemView:
    loaded = await _sample(session, sample_id, user, action="review audit samples")
    if not _is_reviewer(user):
        raise Forbidden(
            "Only reviewers code audit samples blind; analysts and admins see the comparison."
        )
    item = await _item(session, loaded, item_id)
    known = {t.code for t in await _themes(session, loaded.codeframe.id)}
    unknown = [
        field_error(
            ["themes", i], f"No theme {code} in codeframe version {loaded.codeframe.version}."
        )
        for i, code in enumerate(data.themes)
        if code not in known
    ]
    if unknown:
        raise UnknownTheme(fields=unknown)
    themes = sorted(set(data.themes))
    inserted = await session.scalar(
        pg_insert(Review)
        .values(
            id=uuid.uuid4(),
            sample_id=loaded.sample.id,
            item_id=item.id,
            reviewer_id=user.id,
            themes=themes,
            stance=data.stance.value if data.stance else None,
            # The moment of submission, not the transaction's start: reviewers are numbered
            # by their first review.
            submitted_at=func.clock_timestamp(),
        )
        .on_conflict_do_nothing(index_elements=["item_id", "reviewer_id"])
        .returning(Review.id)
    )
    if inserted is None:
        existing = await session.scalar(
            select(Review).where(Review.item_id == item.id, Review.reviewer_id == user.id)
        )
        assert existing is not None
        if list(existing.themes) != themes or existing.stance != data.stance:
            raise ReviewFinal()
        # The same review sent again (a retry): nothing changes.
        return await _item_view(session, loaded, item, user)
    await record_event(
        session,
        action="review.submit",
        entity_type="audit_review",
        entity_id=inserted,
        before=None,
        after={
            "sample_id": loaded.sample.id,
            "item_id": item.id,
            "position": item.position,
            "themes": themes,
            "stance": data.stance,
        },
        actor=Actor.for_user(user),
        consultation_id=loaded.consultation.id,
    )
    return await _item_view(session, loaded, item, user)


# --------------------------------------------------------------------------------------
# Agreement
# --------------------------------------------------------------------------------------

CURRENT = "current codes"


def _majority_error(current: set[str], reviews: list[set[str]], themes: list[str]) -> bool:
    """Miscoded: on some theme fewer than half of the item's reviewers agree with the code."""
    for code in themes:
        agree = sum(1 for r in reviews if (code in r) == (code in current))
        if 2 * agree < len(reviews):
            return True
    return False


async def agreement(session: AsyncSession, *, sample_id: uuid.UUID, user: User) -> AgreementOut:
    return await _agreement(session, await _sample(session, sample_id, user))


@dataclass
class AgreementView:
    """What the agreement dashboard shows: the sample, its figures and the theme labels."""

    sample: SampleOut
    report: AgreementOut
    labels: dict[str, str]


async def agreement_view(
    session: AsyncSession, *, sample_id: uuid.UUID, user: User
) -> AgreementView:
    """The agreement dashboard's data, with one access check for all of it."""
    loaded = await _sample(session, sample_id, user)
    return AgreementView(
        sample=await _sample_out(session, loaded, user),
        report=await _agreement(session, loaded),
        labels=await _theme_labels(session, loaded),
    )


async def _agreement(session: AsyncSession, loaded: _Loaded) -> AgreementOut:
    sample = loaded.sample
    themes = [t.code for t in await _themes(session, loaded.codeframe.id)]
    items = {
        i.id: i
        for i in await session.scalars(select(SampleItem).where(SampleItem.sample_id == sample.id))
    }
    reviews = list(
        await session.scalars(
            select(Review)
            .where(Review.sample_id == sample.id, Review.reviewer_id.is_not(None))
            .order_by(Review.submitted_at)
        )
    )
    labels = await _reviewer_labels(session, sample.id)
    # Items and reviews never change once written (a review is final), so the figures for
    # a given set of reviews can be kept; they are computed off the event loop.
    key = (
        sample.id,
        tuple(themes),
        len(reviews),
        max((r.submitted_at for r in reviews), default=None),
    )
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    out = await asyncio.to_thread(
        _compute, sample, loaded.codeframe.version, themes, items, reviews, labels
    )
    _CACHE[key] = out
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    return out


_CACHE: dict[tuple[Any, ...], AgreementOut] = {}
_CACHE_SIZE = 32


def _compute(
    sample: AuditSample,
    codeframe_version: int,
    themes: list[str],
    items: dict[uuid.UUID, SampleItem],
    reviews: list[Review],
    labels: dict[uuid.UUID, str],
) -> AgreementOut:
    names = list(labels.values())
    by_reviewer: dict[str, dict[str, set[str]]] = {name: {} for name in names}
    by_item: dict[uuid.UUID, list[Review]] = defaultdict(list)
    for r in reviews:
        assert r.reviewer_id is not None
        by_reviewer[labels[r.reviewer_id]][str(r.item_id)] = set(r.themes)
        by_item[r.item_id].append(r)
    current = {str(i.id): set(i.codes.get("present", [])) for i in items.values()}
    current_reviewed = {k: v for k, v in current.items() if uuid.UUID(k) in by_item}
    notes = [
        "Unit: answer x theme, present or absent; current codes are the codes the answers "
        "carried when the sample was drawn. For present/absent data Krippendorff's alpha at "
        "the interval level equals the nominal alpha.",
    ]
    seed = sample.seed % 2**32
    kwargs: dict[str, Any] = {
        "themes": themes,
        "n_resamples": N_RESAMPLES,
        "confidence": 0.95,
        "seed": seed,
    }

    among = None
    if len(names) >= 2:
        report = per_theme_agreement(by_reviewer, **kwargs)
        if report.n_answers:
            among = report.to_dict()
    if among is None:
        notes.append("Agreement among reviewers needs two reviewers of the same items.")
    with_current = None
    per_reviewer: list[dict[str, Any]] = []
    prf = None
    stance = None
    if reviews:
        with_current = per_theme_agreement(
            {CURRENT: current_reviewed, **by_reviewer}, **kwargs
        ).to_dict()
        for name in names:
            mine = by_reviewer[name]
            pair = per_theme_agreement(
                {CURRENT: {k: current[k] for k in mine}, name: mine}, **kwargs
            )
            fit = multilabel_prf_ci(
                [mine[k] for k in mine],
                [current[k] for k in mine],
                labels=themes,
                n_resamples=N_RESAMPLES,
                seed=seed,
            )
            per_reviewer.append(
                {
                    "reviewer": name,
                    "items": len(mine),
                    "agreement": pair.to_dict(),
                    "micro": {k: v.to_dict() for k, v in fit.micro.items()},
                }
            )
        gold = [set(r.themes) for r in reviews]
        predicted = [current[str(r.item_id)] for r in reviews]
        prf = multilabel_prf_ci(
            gold, predicted, labels=themes, n_resamples=N_RESAMPLES, seed=seed
        ).to_dict()
        if any(len(v) > 1 for v in by_item.values()):
            notes.append(
                "Precision, recall and F1 take every review as one row (current codes "
                "predicted, the review as gold); the bootstrap resamples reviews."
            )
        pairs = [
            (items[r.item_id].codes.get("stance"), r.stance.value)
            for r in reviews
            if r.stance is not None and items[r.item_id].codes.get("stance")
        ]
        if pairs:
            a = [p[0] for p in pairs]
            b = [p[1] for p in pairs]
            stance = {
                "n": len(pairs),
                "percent_agreement": percent_agreement_ci(
                    [a, b], n_resamples=N_RESAMPLES, seed=seed
                ).to_dict(),
                "cohen_kappa": cohen_kappa_ci(a, b, n_resamples=N_RESAMPLES, seed=seed).to_dict(),
            }

    error_rate = _error_rates(sample, items, by_item, themes, notes)
    return AgreementOut(
        sample_id=sample.id,
        codeframe_version=codeframe_version,
        unit="answer x theme (present/absent)",
        themes=themes,
        reviewers=names,
        items=len(items),
        reviewed_items=len(by_item),
        reviews=len(reviews),
        among_reviewers=among,
        reviewers_and_current=with_current,
        per_reviewer=per_reviewer,
        current_vs_reviewers=prf,
        stance=stance,
        error_rate=error_rate,
        notes=notes,
    )


def _error_rates(
    sample: AuditSample,
    items: dict[uuid.UUID, SampleItem],
    by_item: dict[uuid.UUID, list[Review]],
    themes: list[str],
    notes: list[str],
) -> dict[str, Any]:
    errors: dict[str, int] = defaultdict(int)
    reviewed: dict[str, int] = defaultdict(int)
    for item_id, item_reviews in by_item.items():
        item = items[item_id]
        reviewed[item.stratum] += 1
        if _majority_error(
            set(item.codes.get("present", [])), [set(r.themes) for r in item_reviews], themes
        ):
            errors[item.stratum] += 1
    definition = (
        "An item is miscoded when, on at least one theme, fewer than half of its reviewers "
        "agree with the current code. Rates cover reviewed items."
    )
    population = {h: int(n) for h, n in sample.population_sizes.items()}
    table = {h: (errors[h], reviewed[h], population[h]) for h in population}
    unreviewed = sorted(h for h, n in population.items() if n > 0 and reviewed[h] == 0)
    if not unreviewed:
        estimate = estimate_error_rate(table).to_dict()
        return {"definition": definition, **estimate}
    notes.append(
        "The population-weighted error rate needs a reviewed item in every stratum; "
        f"not yet reviewed: {', '.join(unreviewed)}."
    )
    return {
        "definition": definition,
        "per_stratum": {
            h: {
                "errors": errors[h],
                "n": reviewed[h],
                "population": population[h],
                "rate": wilson_estimate(errors[h], reviewed[h]).to_dict(),
            }
            for h in population
        },
        "overall": None,
        "population": sum(population.values()),
        "n": sum(reviewed.values()),
    }


# --------------------------------------------------------------------------------------
# For the pages
# --------------------------------------------------------------------------------------


async def auditable_proposals(session: AsyncSession, *, user: User) -> list[dict[str, Any]]:
    """Proposals the user may draw samples for, with their published codeframe version."""
    if user.role not in (Role.admin, Role.analyst, Role.reviewer):
        return []
    query = (
        select(Consultation.title, Proposal.id, Proposal.title, Codeframe.version)
        .join(Proposal, Proposal.consultation_id == Consultation.id)
        .outerjoin(
            Codeframe,
            (Codeframe.proposal_id == Proposal.id) & (Codeframe.status == "published"),
        )
        .order_by(Consultation.title, Proposal.position)
    )
    if user.role != Role.admin:
        query = query.where(
            Consultation.id.in_(
                select(Membership.consultation_id).where(Membership.user_id == user.id)
            )
        )
    return [
        {
            "consultation_title": c_title,
            "proposal_id": p_id,
            "proposal_title": p_title,
            "codeframe_version": version,
        }
        for c_title, p_id, p_title, version in await session.execute(query)
    ]


async def proposal_summary(
    session: AsyncSession, *, proposal_id: uuid.UUID, user: User
) -> dict[str, Any]:
    proposal, consultation = await _proposal(session, proposal_id, user, "draw audit samples")
    codeframe = await published_codeframe(session, proposal.id)
    population = len(await _population(session, codeframe.id, None)) if codeframe else 0
    return {
        "id": proposal.id,
        "title": proposal.title,
        "consultation_title": consultation.title,
        "codeframe_version": codeframe.version if codeframe else None,
        "population": population,
    }


async def challenge_target(
    session: AsyncSession, *, sample_id: uuid.UUID, item_id: uuid.UUID, user: User
) -> dict[str, Any] | None:
    """The answer and codeframe to challenge, once the caller may see the item's codes."""
    loaded = await _sample(session, sample_id, user)
    item = await _item(session, loaded, item_id)
    if _is_reviewer(user):
        reviewed = await session.scalar(
            select(Review.id).where(Review.item_id == item.id, Review.reviewer_id == user.id)
        )
        if reviewed is None:
            return None
    return {"answer_id": item.answer_id, "codeframe_id": loaded.codeframe.id}


async def _theme_labels(session: AsyncSession, loaded: _Loaded) -> dict[str, str]:
    return {t.code: t.label for t in await _themes(session, loaded.codeframe.id)}

"""Theme counts and shares per proposal, and the answers behind each theme.

The summary reads the precomputed `theme_counts` / `answer_counts` (migration 0007), a few
hundred rows per codeframe whatever the number of answers, so it stays fast at a million
coded answers. The answer pages read the live tables with keyset pagination on the answer id
(the partial index on current positive codings serves a theme's answers in id order).

Access: the summary is open to admins and to analysts and reviewers who are members;
answers (quotes with their codings) to admins and analysts only: reviewers code blind and
see counts only.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.campaigns.models import Campaign
from app.codeframes.models import Codeframe, Theme
from app.coding.models import Coding, Stance
from app.consultations.models import Consultation, Proposal, Question
from app.consultations.service import require_access
from app.enums import CodeframeStatus, ConsultationStatus, QuestionKind, ResponseStatus, Role
from app.errors import Conflict, NotFound
from app.responses.models import Answer, Respondent, Response
from app.themes.models import NO_CAMPAIGN, AnswerCount, ThemeCount
from app.themes.schemas import (
    AnswerQuote,
    AnswersPage,
    CampaignColumn,
    CampaignCount,
    CampaignMode,
    CodeframeRef,
    CodingOut,
    Filters,
    StanceFilter,
    ThemeCountOut,
    ThemeSummaryOut,
)
from app.users.models import Membership, User

NOT_REDACTED = "[not yet redacted]"


class NoPublishedCodeframe(Conflict):
    code = "no_published_codeframe"
    message = "This proposal has no published codeframe yet."


# --------------------------------------------------------------------------------------
# Access and codeframe
# --------------------------------------------------------------------------------------


async def _proposal(
    session: AsyncSession, proposal_id: uuid.UUID, user: User | None, *, quotes: bool
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
        roles=(Role.analyst,) if quotes else (Role.analyst, Role.reviewer),
        action="read the answers behind themes" if quotes else "read theme counts",
        missing="No such proposal.",
    )
    return proposal, consultation


async def _codeframe(
    session: AsyncSession, proposal_id: uuid.UUID, version: int | None
) -> Codeframe:
    query = select(Codeframe).where(Codeframe.proposal_id == proposal_id)
    if version is None:
        query = query.where(Codeframe.status == CodeframeStatus.published)
    else:
        query = query.where(Codeframe.version == version)
    codeframe = await session.scalar(query)
    if codeframe is None:
        if version is None:
            raise NoPublishedCodeframe()
        raise NotFound(f"This proposal has no codeframe version {version}.")
    return codeframe


def _ref(codeframe: Codeframe) -> CodeframeRef:
    return CodeframeRef(id=codeframe.id, version=codeframe.version, status=codeframe.status)


# --------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------


def _count_filters(model: type[ThemeCount] | type[AnswerCount], filters: Filters) -> list[Any]:
    where: list[Any] = []
    if filters.respondent_kind is not None:
        where.append(model.respondent_kind == filters.respondent_kind.value)
    if filters.region:
        where.append(model.region == filters.region)
    if filters.stance is not None:
        stance = "" if filters.stance == StanceFilter.none else filters.stance.value
        where.append(model.stance == stance)
    return where


async def _theme_counts(
    session: AsyncSession, codeframe_id: uuid.UUID, filters: Filters
) -> dict[uuid.UUID, dict[uuid.UUID, int]]:
    """Theme id -> campaign key (NO_CAMPAIGN: none) -> count."""
    themes: dict[uuid.UUID, dict[uuid.UUID, int]] = defaultdict(dict)
    rows = await session.execute(
        select(ThemeCount.theme_id, ThemeCount.campaign_id, func.sum(ThemeCount.n))
        .where(ThemeCount.codeframe_id == codeframe_id, *_count_filters(ThemeCount, filters))
        .group_by(ThemeCount.theme_id, ThemeCount.campaign_id)
    )
    for theme_id, campaign_id, n in rows:
        themes[theme_id][campaign_id] = int(n)
    return themes


async def _answer_counts(
    session: AsyncSession, proposal_id: uuid.UUID, filters: Filters
) -> dict[uuid.UUID, int]:
    """Campaign key (NO_CAMPAIGN: none) -> answers in scope."""
    rows = await session.execute(
        select(AnswerCount.campaign_id, func.sum(AnswerCount.n))
        .where(AnswerCount.proposal_id == proposal_id, *_count_filters(AnswerCount, filters))
        .group_by(AnswerCount.campaign_id)
    )
    return {campaign_id: int(n) for campaign_id, n in rows}


def _in_mode(per: dict[uuid.UUID, int], mode: CampaignMode) -> int:
    """The main figure under a campaign mode (separate: outside campaigns, as exclude)."""
    if mode == CampaignMode.include:
        return sum(per.values())
    if mode == CampaignMode.only:
        return sum(n for c, n in per.items() if c != NO_CAMPAIGN)
    return per.get(NO_CAMPAIGN, 0)


def _share(count: int, n: int) -> float | None:
    return round(count / n, 6) if n else None


async def summary(
    session: AsyncSession,
    *,
    proposal_id: uuid.UUID,
    user: User | None,
    filters: Filters,
    version: int | None = None,
) -> ThemeSummaryOut:
    proposal, _ = await _proposal(session, proposal_id, user, quotes=False)
    codeframe = await _codeframe(session, proposal.id, version)
    themes = list(
        await session.scalars(
            select(Theme)
            .where(Theme.codeframe_id == codeframe.id)
            .order_by(Theme.position, Theme.code)
        )
    )
    codes = {t.id: t.code for t in themes}
    counts = await _theme_counts(session, codeframe.id, filters)
    answers = await _answer_counts(session, proposal.id, filters)
    main_n = _in_mode(answers, filters.campaign)
    campaign_ids: list[uuid.UUID] = []
    columns: list[CampaignColumn] = []
    if filters.campaign == CampaignMode.separate:
        # Every campaign with answers to the proposal gets a column, even if filtered to 0.
        found = set(
            await session.scalars(
                select(AnswerCount.campaign_id)
                .where(
                    AnswerCount.proposal_id == proposal.id,
                    AnswerCount.campaign_id != NO_CAMPAIGN,
                    AnswerCount.n > 0,
                )
                .distinct()
            )
        ) | {k for per in counts.values() for k, n in per.items() if k != NO_CAMPAIGN and n}
        labels = {
            c.id: c.label
            for c in await session.scalars(select(Campaign).where(Campaign.id.in_(found)))
        }
        campaign_ids = sorted(found, key=lambda c: (labels.get(c, ""), str(c)))
        columns = [
            CampaignColumn(campaign_id=c, label=labels.get(c, "Campaign"), n=answers.get(c, 0))
            for c in campaign_ids
        ]
    out: list[ThemeCountOut] = []
    for theme in themes:
        per = counts.get(theme.id, {})
        count = _in_mode(per, filters.campaign)
        out.append(
            ThemeCountOut(
                code=theme.code,
                label=theme.label,
                parent_code=codes.get(theme.parent_id) if theme.parent_id else None,
                count=count,
                share=_share(count, main_n),
                campaigns=[
                    CampaignCount(
                        campaign_id=c,
                        count=per.get(c, 0),
                        share=_share(per.get(c, 0), answers.get(c, 0)),
                    )
                    for c in campaign_ids
                ],
            )
        )
    return ThemeSummaryOut(
        proposal_id=proposal.id,
        proposal_title=proposal.title,
        codeframe=_ref(codeframe),
        filters=filters,
        n=main_n,
        coded_count=sum(t.count for t in out),
        themes=out,
        campaigns=columns,
    )


# --------------------------------------------------------------------------------------
# Answers behind a theme, and the answer browser
# --------------------------------------------------------------------------------------


def _answer_filters(query: Select[Any], filters: Filters, stance: Any) -> Select[Any]:
    query = query.where(Response.status == ResponseStatus.received)
    if filters.respondent_kind is not None:
        query = query.where(Respondent.kind == filters.respondent_kind)
    if filters.region:
        query = query.where(Respondent.region == filters.region)
    if filters.stance == StanceFilter.none:
        query = query.where(stance.c.value.is_(None))
    elif filters.stance is not None:
        query = query.where(stance.c.value == filters.stance.value)
    if filters.campaign in (CampaignMode.exclude, CampaignMode.separate):
        query = query.where(Response.campaign_id.is_(None))
    elif filters.campaign == CampaignMode.only:
        query = query.where(Response.campaign_id.is_not(None))
    return query


async def answers(
    session: AsyncSession,
    *,
    proposal_id: uuid.UUID,
    user: User | None,
    filters: Filters,
    code: str | None = None,
    version: int | None = None,
    q: str | None = None,
    after: uuid.UUID | None = None,
    limit: int = 20,
) -> AnswersPage:
    """A page of answers (redacted text only), in answer-id order after `after`.

    With `code`: the answers currently coded with that theme, each with that coding's
    source, confidence and evidence; without: every answered open-text question of the
    proposal (the answer browser), each with the themes it currently carries."""
    proposal, _ = await _proposal(session, proposal_id, user, quotes=True)
    codeframe: Codeframe | None
    if code is not None or version is not None:
        codeframe = await _codeframe(session, proposal.id, version)
    else:
        codeframe = await session.scalar(
            select(Codeframe).where(
                Codeframe.proposal_id == proposal.id,
                Codeframe.status == CodeframeStatus.published,
            )
        )
    theme: Theme | None = None
    if code is not None:
        assert codeframe is not None
        theme = await session.scalar(
            select(Theme).where(Theme.codeframe_id == codeframe.id, Theme.code == code)
        )
        if theme is None:
            raise NotFound(f"No theme {code} in codeframe version {codeframe.version}.")
    stance = (
        select(Stance.response_id, Stance.value)
        .where(Stance.proposal_id == proposal.id, Stance.is_current)
        .subquery("current_stance")
    )
    columns = (
        Answer.id,
        Answer.response_id,
        Question.number,
        Answer.redacted_text,
        Respondent.kind,
        Respondent.region,
        stance.c.value,
        Response.campaign_id,
    )
    query: Select[Any]
    if theme is not None:
        query = (
            select(*columns, Coding)
            .select_from(Coding)
            .join(Answer, Answer.id == Coding.answer_id)
            .where(
                Coding.codeframe_id == theme.codeframe_id,
                Coding.theme_id == theme.id,
                Coding.is_current,
                Coding.present,
            )
        )
        order = Coding.answer_id
    else:
        query = (
            select(*columns)
            .select_from(Answer)
            .where(
                Answer.text.is_not(None),
                func.btrim(Answer.text) != "",
            )
        )
        order = Answer.id
    query = (
        query.join(Question, Question.id == Answer.question_id)
        .join(Response, Response.id == Answer.response_id)
        .join(Respondent, Respondent.id == Response.respondent_id)
        .outerjoin(stance, stance.c.response_id == Response.id)
        .where(Question.proposal_id == proposal.id, Question.kind == QuestionKind.open_text)
    )
    query = _answer_filters(query, filters, stance)
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Answer.redacted_text.ilike(f"%{escaped}%", escape="\\"))
    if after is not None:
        query = query.where(order > after)
    rows = list(await session.execute(query.order_by(order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    codes_by_answer: dict[uuid.UUID, list[str]] = defaultdict(list)
    if codeframe is not None and rows:
        for answer_id, theme_code in await session.execute(
            select(Coding.answer_id, Theme.code)
            .join(Theme, Theme.id == Coding.theme_id)
            .where(
                Coding.answer_id.in_([r[0] for r in rows]),
                Coding.codeframe_id == codeframe.id,
                Coding.is_current,
                Coding.present,
            )
            .order_by(Theme.position, Theme.code)
        ):
            codes_by_answer[answer_id].append(theme_code)
    items = []
    for row in rows:
        coding: Coding | None = row[8] if theme is not None else None
        items.append(
            AnswerQuote(
                answer_id=row[0],
                response_id=row[1],
                question_number=row[2],
                redacted_text=row[3] if row[3] is not None else NOT_REDACTED,
                respondent_kind=row[4],
                region=row[5],
                stance=row[6],
                campaign_id=row[7],
                coding=CodingOut(
                    coding_id=coding.id,
                    code=theme.code,
                    label=theme.label,
                    source=coding.source,
                    confidence=coding.confidence,
                    evidence=coding.evidence,
                    needs_review=coding.needs_review,
                    created_at=coding.created_at,
                )
                if coding is not None and theme is not None
                else None,
                codes=codes_by_answer.get(row[0], []),
            )
        )
    total: int | None = None
    if q is None:
        if theme is not None:
            counts = await _theme_counts(session, theme.codeframe_id, filters)
            total = _in_mode(counts.get(theme.id, {}), filters.campaign)
        else:
            total = _in_mode(await _answer_counts(session, proposal.id, filters), filters.campaign)
    return AnswersPage(
        proposal_id=proposal.id,
        codeframe=_ref(codeframe) if codeframe is not None else None,
        theme=theme.code if theme is not None else None,
        filters=filters,
        q=q,
        total=total,
        items=items,
        next_cursor=str(rows[-1][0]) if more else None,
    )


# --------------------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------------------


@dataclass
class ProposalLink:
    id: uuid.UUID
    title: str
    codeframe_version: int | None


@dataclass
class ConsultationLinks:
    slug: str
    title: str
    status: ConsultationStatus
    proposals: list[ProposalLink] = field(default_factory=list)


async def analysable(session: AsyncSession, *, user: User) -> list[ConsultationLinks]:
    """Consultations (and their proposals) the user can analyse: all for admins, the
    consultations an analyst is a member of; none for other roles."""
    if user.role not in (Role.admin, Role.analyst):
        return []
    query = select(Consultation).order_by(Consultation.created_at.desc(), Consultation.slug)
    if user.role != Role.admin:
        query = query.join(
            Membership,
            and_(Membership.consultation_id == Consultation.id, Membership.user_id == user.id),
        )
    consultations = list(await session.scalars(query))
    if not consultations:
        return []
    published = (
        select(Codeframe.proposal_id, Codeframe.version)
        .where(Codeframe.status == CodeframeStatus.published)
        .subquery()
    )
    rows = await session.execute(
        select(Proposal.consultation_id, Proposal.id, Proposal.title, published.c.version)
        .outerjoin(published, published.c.proposal_id == Proposal.id)
        .where(Proposal.consultation_id.in_([c.id for c in consultations]))
        .order_by(Proposal.position, Proposal.created_at)
    )
    links = {
        c.id: ConsultationLinks(slug=c.slug, title=c.title, status=c.status) for c in consultations
    }
    for consultation_id, proposal_id, title, version in rows:
        links[consultation_id].proposals.append(ProposalLink(proposal_id, title, version))
    return list(links.values())


@dataclass
class FilterOptions:
    regions: list[str]
    campaigns: list[tuple[uuid.UUID, str]]
    versions: list[tuple[int, CodeframeStatus]]
    themes: list[tuple[str, str]]


@dataclass
class Overview:
    proposal_id: uuid.UUID
    proposal_title: str
    consultation_slug: str
    consultation_title: str
    summary: ThemeSummaryOut | None
    options: FilterOptions
    problem: str | None = None


async def _options(
    session: AsyncSession, proposal: Proposal, codeframe_id: uuid.UUID | None
) -> FilterOptions:
    regions = sorted(
        r
        for r in await session.scalars(
            select(AnswerCount.region).where(AnswerCount.proposal_id == proposal.id).distinct()
        )
        if r
    )
    campaigns = [
        (c.id, c.label)
        for c in await session.scalars(
            select(Campaign)
            .where(Campaign.consultation_id == proposal.consultation_id)
            .order_by(Campaign.label)
        )
    ]
    versions = [
        (v, s)
        for v, s in await session.execute(
            select(Codeframe.version, Codeframe.status)
            .where(
                Codeframe.proposal_id == proposal.id,
                Codeframe.status != CodeframeStatus.draft,
            )
            .order_by(Codeframe.version.desc())
        )
    ]
    themes: list[tuple[str, str]] = []
    if codeframe_id is not None:
        themes = [
            (code, label)
            for code, label in await session.execute(
                select(Theme.code, Theme.label)
                .where(Theme.codeframe_id == codeframe_id)
                .order_by(Theme.position, Theme.code)
            )
        ]
    return FilterOptions(regions, campaigns, versions, themes)


async def overview(
    session: AsyncSession,
    *,
    proposal_id: uuid.UUID,
    user: User | None,
    filters: Filters,
    version: int | None = None,
) -> Overview:
    """The proposal overview page: the summary (None without a codeframe) and the
    values its filter form offers."""
    proposal, consultation = await _proposal(session, proposal_id, user, quotes=True)
    result: ThemeSummaryOut | None = None
    problem = None
    try:
        result = await summary(
            session, proposal_id=proposal_id, user=user, filters=filters, version=version
        )
    except (NoPublishedCodeframe, NotFound) as exc:
        problem = exc.message
    options = await _options(session, proposal, result.codeframe.id if result else None)
    return Overview(
        proposal_id=proposal.id,
        proposal_title=proposal.title,
        consultation_slug=consultation.slug,
        consultation_title=consultation.title,
        summary=result,
        options=options,
        problem=problem,
    )


@dataclass
class Browser:
    overview: Overview
    page: AnswersPage | None
    problem: str | None = None


async def browse(
    session: AsyncSession,
    *,
    proposal_id: uuid.UUID,
    user: User | None,
    filters: Filters,
    code: str | None = None,
    q: str | None = None,
    after: uuid.UUID | None = None,
    limit: int = 20,
    version: int | None = None,
) -> Browser:
    """The answer browser page: one page of answers and the filter form's options."""
    proposal, consultation = await _proposal(session, proposal_id, user, quotes=True)
    page: AnswersPage | None = None
    problem = None
    try:
        page = await answers(
            session,
            proposal_id=proposal_id,
            user=user,
            filters=filters,
            code=code,
            version=version,
            q=q,
            after=after,
            limit=limit,
        )
    except (NoPublishedCodeframe, NotFound) as exc:
        problem = exc.message
    options = await _options(
        session, proposal, page.codeframe.id if page and page.codeframe else None
    )
    return Browser(
        overview=Overview(
            proposal_id=proposal.id,
            proposal_title=proposal.title,
            consultation_slug=consultation.slug,
            consultation_title=consultation.title,
            summary=None,
            options=options,
        ),
        page=page,
        problem=problem,
    )

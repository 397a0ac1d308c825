"""Theme discovery: start a run, read a proposal's suggestions, turn chosen ones into themes.

The runs themselves are in app/discovery/runs.py. Suggestions show answers only through
their redacted text, so reviewers who are members may read them.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.codeframes import service as codeframes
from app.codeframes.models import Codeframe
from app.codeframes.schemas import AddOp, CodeframeCreate, CodeframeOut, ThemeIn
from app.discovery.models import ThemeSuggestion
from app.discovery.schemas import (
    DiscoverCreate,
    FromSuggestions,
    Representative,
    SuggestionOut,
    SuggestionsOut,
)
from app.enums import CodeframeStatus
from app.errors import ValidationFailed, field_error
from app.jobs import service as jobs
from app.jobs.models import AnalysisRun, RunKind, RunStatus
from app.responses.models import Answer
from app.users.models import User

if TYPE_CHECKING:
    from procrastinate import App

EXAMPLES_PER_THEME = 3


class InvalidSuggestions(ValidationFailed):
    code = "invalid_suggestions"
    message = "The chosen suggestions are not valid; nothing was changed."


async def start_discovery(
    session: AsyncSession,
    *,
    queue: App,
    proposal_id: uuid.UUID,
    user: User | None,
    data: DiscoverCreate,
) -> AnalysisRun:
    """Queues a discover run over the proposal's answers (admins, analyst members)."""
    proposal, consultation = await _proposal(session, proposal_id, user, write=True)
    return await jobs.create_run(
        session,
        queue=queue,
        consultation=consultation,
        kind=RunKind.discover.value,
        user=user,
        proposal_id=proposal.id,
        parameters=data.model_dump(exclude={"seed"}),
        seed=data.seed,
    )


async def _proposal(
    session: AsyncSession, proposal_id: uuid.UUID, user: User | None, *, write: bool
) -> Any:
    if user is None:  # the CLI: the operator
        from app.consultations.models import Consultation, Proposal
        from app.errors import NotFound

        row = (
            await session.execute(
                select(Proposal, Consultation)
                .join(Consultation, Consultation.id == Proposal.consultation_id)
                .where(Proposal.id == proposal_id)
            )
        ).first()
        if row is None:
            raise NotFound("No such proposal.")
        return row
    return await codeframes.authorise_proposal(
        session, proposal_id=proposal_id, user=user, write=write
    )


async def authorise(session: AsyncSession, *, proposal_id: uuid.UUID, user: User) -> None:
    """Admins and analyst members may start discovery and accept suggestions."""
    await _proposal(session, proposal_id, user, write=True)


async def latest_run(session: AsyncSession, proposal_id: uuid.UUID) -> AnalysisRun | None:
    return await session.scalar(
        select(AnalysisRun)
        .where(
            AnalysisRun.proposal_id == proposal_id,
            AnalysisRun.kind == RunKind.discover.value,
            AnalysisRun.status == RunStatus.succeeded,
        )
        .order_by(AnalysisRun.finished_at.desc().nulls_last(), AnalysisRun.created_at.desc())
        .limit(1)
    )


async def stored_suggestions(session: AsyncSession, *, run_id: uuid.UUID) -> list[ThemeSuggestion]:
    """A run's candidates in order (no access check: the CLI)."""
    return list(
        await session.scalars(
            select(ThemeSuggestion)
            .where(ThemeSuggestion.run_id == run_id)
            .order_by(ThemeSuggestion.position)
        )
    )


async def suggestions(
    session: AsyncSession, *, proposal_id: uuid.UUID, user: User
) -> SuggestionsOut:
    """The latest succeeded discover run's candidates (members, reviewers included)."""
    await _proposal(session, proposal_id, user, write=False)
    run = await latest_run(session, proposal_id)
    if run is None:
        return SuggestionsOut(
            proposal_id=proposal_id, run_id=None, run_finished_at=None, seed=None, suggestions=[]
        )
    rows = list(
        await session.scalars(
            select(ThemeSuggestion)
            .where(ThemeSuggestion.run_id == run.id)
            .order_by(ThemeSuggestion.position)
        )
    )
    texts = await _redacted(session, [i for r in rows for i in r.representative_answer_ids])
    return SuggestionsOut(
        proposal_id=proposal_id,
        run_id=run.id,
        run_finished_at=run.finished_at,
        seed=run.seed,
        suggestions=[
            SuggestionOut(
                id=r.id,
                position=r.position,
                label=r.label,
                top_terms=list(r.top_terms),
                answer_count=r.answer_count,
                share=r.share,
                representatives=[
                    Representative(answer_id=uuid.UUID(i), text=texts[i])
                    for i in r.representative_answer_ids
                    if i in texts
                ],
            )
            for r in rows
        ],
    )


async def _redacted(session: AsyncSession, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(Answer.id, Answer.redacted_text).where(Answer.id.in_([uuid.UUID(i) for i in ids]))
    )
    return {str(row.id): row.redacted_text or "" for row in rows}


def _description(chosen: list[ThemeSuggestion]) -> str:
    terms: list[str] = []
    for s in chosen:
        terms += [t for t in s.top_terms if t not in terms]
    return "Suggested by theme discovery; top terms: " + ", ".join(terms[:12]) + "."


async def accept_suggestions(
    session: AsyncSession, *, proposal_id: uuid.UUID, user: User, data: FromSuggestions
) -> CodeframeOut:
    """Turns chosen suggestions (accepted, renamed, merged; the rest dropped) into themes of
    the proposal's draft codeframe, creating the draft if there is none."""
    await _proposal(session, proposal_id, user, write=True)
    wanted = [i for t in data.themes for i in t.suggestion_ids]
    found = {
        s.id: s
        for s in await session.scalars(
            select(ThemeSuggestion).where(
                ThemeSuggestion.id.in_(wanted), ThemeSuggestion.proposal_id == proposal_id
            )
        )
    }
    errors = []
    seen: set[uuid.UUID] = set()
    for i, theme in enumerate(data.themes):
        for j, sid in enumerate(theme.suggestion_ids):
            if sid not in found:
                errors.append(
                    field_error(
                        ["themes", i, "suggestion_ids", j], "Not a suggestion of this proposal."
                    )
                )
            elif sid in seen:
                errors.append(
                    field_error(["themes", i, "suggestion_ids", j], "Chosen more than once.")
                )
            seen.add(sid)
    if errors:
        raise InvalidSuggestions(fields=errors)
    representative_ids = [
        i
        for t in data.themes
        for sid in t.suggestion_ids
        for i in found[sid].representative_answer_ids
    ]
    texts = await _redacted(session, representative_ids)
    themes = []
    for theme in data.themes:
        chosen = [found[sid] for sid in theme.suggestion_ids]
        examples = [texts[i] for s in chosen for i in s.representative_answer_ids if texts.get(i)][
            :EXAMPLES_PER_THEME
        ]
        themes.append(
            ThemeIn(
                label=theme.label or chosen[0].label,
                description=theme.description
                if theme.description is not None
                else _description(chosen),
                examples=[e[:5000] for e in examples],
            )
        )
    versions = list(
        await session.scalars(
            select(Codeframe).where(
                Codeframe.proposal_id == proposal_id,
                Codeframe.status.in_([CodeframeStatus.draft, CodeframeStatus.published]),
            )
        )
    )
    draft = next((v for v in versions if v.status == CodeframeStatus.draft), None)
    operations: list[Any] = [AddOp(op="add", theme=t) for t in themes]
    if draft is not None:
        return await codeframes.apply_to_draft(
            session, codeframe_id=draft.id, user=user, operations=operations
        )
    published = next((v for v in versions if v.status == CodeframeStatus.published), None)
    if published is not None:
        create = CodeframeCreate(based_on=published.id, operations=operations)
    else:
        create = CodeframeCreate(themes=themes)
    return await codeframes.create_codeframe(
        session, proposal_id=proposal_id, user=user, data=create
    )

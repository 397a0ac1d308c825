"""What the codeframe editor page shows, and the form actions it offers (one call each).

The page itself is app/codeframes/pages.py; everything here goes through the codeframes
and discovery services, so the page has exactly the API's rules, checks and audit events.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.codeframes import service as codeframes
from app.codeframes.models import Codeframe
from app.codeframes.schemas import (
    CodeframeCreate,
    CodeframeOut,
    MergeOp,
    RetireOp,
    SplitOp,
    ThemeIn,
    ThemeUpdate,
)
from app.discovery import service as discovery
from app.discovery.schemas import AcceptedTheme, FromSuggestions, SuggestionsOut
from app.enums import CodeframeStatus
from app.jobs.models import AnalysisRun, RunKind
from app.users.models import User


@dataclass
class EditorView:
    proposal: Any
    consultation: Any
    versions: list[CodeframeOut]
    draft: CodeframeOut | None
    published: CodeframeOut | None
    suggestions: SuggestionsOut
    discovery_run: AnalysisRun | None  # the latest discover run, whatever its state


async def editor_view(session: AsyncSession, *, proposal_id: uuid.UUID, user: User) -> EditorView:
    proposal, consultation = await codeframes.authorise_proposal(
        session, proposal_id=proposal_id, user=user, write=True
    )
    rows = await session.scalars(
        select(Codeframe).where(Codeframe.proposal_id == proposal_id).order_by(Codeframe.version)
    )
    versions = [await codeframes.codeframe_out(session, cf) for cf in list(rows)]
    draft = next((v for v in versions if v.status == CodeframeStatus.draft), None)
    published = next((v for v in versions if v.status == CodeframeStatus.published), None)
    suggestions = await discovery.suggestions(session, proposal_id=proposal_id, user=user)
    run = await session.scalar(
        select(AnalysisRun)
        .where(AnalysisRun.proposal_id == proposal_id, AnalysisRun.kind == RunKind.discover.value)
        .order_by(AnalysisRun.created_at.desc())
        .limit(1)
    )
    return EditorView(proposal, consultation, versions, draft, published, suggestions, run)


async def _draft_id(session: AsyncSession, proposal_id: uuid.UUID) -> uuid.UUID:
    from app.errors import Conflict

    found = await session.scalar(
        select(Codeframe.id).where(
            Codeframe.proposal_id == proposal_id, Codeframe.status == CodeframeStatus.draft
        )
    )
    if found is None:
        raise Conflict("There is no draft: start a new version first.")
    return found


async def new_version(session: AsyncSession, *, proposal_id: uuid.UUID, user: User) -> CodeframeOut:
    """A new draft: empty, or based on the published version (its themes, codings carried)."""
    await codeframes.authorise_proposal(session, proposal_id=proposal_id, user=user, write=True)
    published = await codeframes.published_codeframe(session, proposal_id)
    data = CodeframeCreate(based_on=published.id) if published else CodeframeCreate()
    return await codeframes.create_codeframe(session, proposal_id=proposal_id, user=user, data=data)


async def add_theme(
    session: AsyncSession, *, proposal_id: uuid.UUID, user: User, data: ThemeIn
) -> CodeframeOut:
    await codeframes.authorise_proposal(session, proposal_id=proposal_id, user=user, write=True)
    draft = await _draft_id(session, proposal_id)
    return await codeframes.add_theme(session, codeframe_id=draft, user=user, data=data)


async def edit_theme(
    session: AsyncSession, *, proposal_id: uuid.UUID, code: str, user: User, data: ThemeUpdate
) -> CodeframeOut:
    await codeframes.authorise_proposal(session, proposal_id=proposal_id, user=user, write=True)
    draft = await _draft_id(session, proposal_id)
    return await codeframes.update_theme(
        session, codeframe_id=draft, code=code, user=user, data=data
    )


async def operate(
    session: AsyncSession,
    *,
    proposal_id: uuid.UUID,
    user: User,
    operation: MergeOp | SplitOp | RetireOp,
) -> CodeframeOut:
    await codeframes.authorise_proposal(session, proposal_id=proposal_id, user=user, write=True)
    draft = await _draft_id(session, proposal_id)
    return await codeframes.apply_to_draft(
        session, codeframe_id=draft, user=user, operations=[operation]
    )


async def publish(session: AsyncSession, *, proposal_id: uuid.UUID, user: User) -> CodeframeOut:
    await codeframes.authorise_proposal(session, proposal_id=proposal_id, user=user, write=True)
    draft = await _draft_id(session, proposal_id)
    return await codeframes.publish(session, codeframe_id=draft, user=user)


async def accept(
    session: AsyncSession,
    *,
    proposal_id: uuid.UUID,
    user: User,
    chosen: list[tuple[uuid.UUID, str]],
    merge: bool,
) -> CodeframeOut:
    """Chosen suggestions (id, label) become themes; with `merge`, one theme of them all."""
    if merge:
        themes = [AcceptedTheme(suggestion_ids=[c[0] for c in chosen], label=chosen[0][1] or None)]
    else:
        themes = [AcceptedTheme(suggestion_ids=[sid], label=label or None) for sid, label in chosen]
    return await discovery.accept_suggestions(
        session, proposal_id=proposal_id, user=user, data=FromSuggestions(themes=themes)
    )

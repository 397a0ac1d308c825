"""Versioned codeframes: drafts, change-log operations, publishing, carrying codings forward.

Carrying codings (on publish of a version based on the previous one), along each new theme's
`origin_theme_ids`:
- copy / rename: the current decision is carried unchanged;
- merge (A, B -> C): C is present if any merged theme was present (that decision is the one
  carried, the highest confidence first), absent if all known decisions were absent;
- split (A -> B, C): an absent A is carried as absent to every target (certain); a present A
  is carried as present to every target with `needs_review` set, because only the analyst
  can say which target applies. Counts of split targets are upper bounds until reviewed;
- retire: nothing is carried; add: nothing to carry.
- implicit absents: model decisions are sparse (a theme without a stored decision was decided
  absent), so an answer the previous version had decisions for may have none on the themes
  carried over. It gets one absent decision on the first carried-over theme, standing for the
  model's unstored ones (`evidence.carried.operation` "implicit_absent", from its least certain
  absent decision), so it stays coded in the new version instead of reading as uncoded until
  the next code run. Its confidence is a bound, not the model's probability: the model was at
  least as sure of every unstored absent theme as of that least certain absent one.
Carried rows are new decisions in the new version (`carried_from_id` names the old one); the
old version's decisions stay current in the old version, so its statistics stay reproducible.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Actor, record_event
from app.codeframes.models import Codeframe, Theme
from app.codeframes.schemas import (
    AddOp,
    CodeframeCreate,
    CodeframeOut,
    CodeframeSummary,
    MergeOp,
    Operation,
    RenameOp,
    RetireOp,
    SplitOp,
    ThemeIn,
    ThemeOut,
    ThemeUpdate,
)
from app.consultations.models import Consultation, Proposal
from app.consultations.service import require_access
from app.enums import CodeframeStatus, Role
from app.errors import Conflict, NotFound, ValidationFailed, field_error
from app.users.models import User


class CodeframePublished(Conflict):
    code = "codeframe_published"
    message = "This codeframe version is published and cannot change; make a new version."


class CodeframeDraftExists(Conflict):
    code = "codeframe_draft_exists"
    message = "This proposal already has a draft codeframe; edit or publish it first."


class CodeframeNotCurrent(Conflict):
    code = "codeframe_not_current"
    message = "A new version must be based on the proposal's currently published version."


class CodeframeEmpty(Conflict):
    code = "codeframe_empty"
    message = "A codeframe needs at least one theme before it can be published."


class InvalidCodeframe(ValidationFailed):
    code = "invalid_codeframe"
    message = "The themes or operations are not valid."


# --------------------------------------------------------------------------------------
# Access
# --------------------------------------------------------------------------------------


async def authorise_proposal(
    session: AsyncSession, *, proposal_id: uuid.UUID, user: User, write: bool
) -> tuple[Proposal, Consultation]:
    """Admins; analysts who are members; reviewers who are members, for reading only.
    Outsiders get 403, or 404 while the consultation is a draft (as elsewhere)."""
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
        roles=(Role.analyst,) if write else (Role.analyst, Role.reviewer),
        action="change codeframes" if write else "read codeframes",
        missing="No such proposal.",
    )
    return proposal, consultation


async def _codeframe(
    session: AsyncSession, codeframe_id: uuid.UUID, user: User, *, write: bool, lock: bool = False
) -> tuple[Codeframe, Proposal]:
    query = select(Codeframe).where(Codeframe.id == codeframe_id)
    if lock:
        query = query.with_for_update()
    codeframe = await session.scalar(query)
    if codeframe is None:
        raise NotFound("No such codeframe.")
    proposal, _ = await authorise_proposal(
        session, proposal_id=codeframe.proposal_id, user=user, write=write
    )
    return codeframe, proposal


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


async def _themes(session: AsyncSession, codeframe_id: uuid.UUID) -> list[Theme]:
    return list(
        await session.scalars(
            select(Theme)
            .where(Theme.codeframe_id == codeframe_id)
            .order_by(Theme.position, Theme.code)
            .execution_options(populate_existing=True)
        )
    )


def _summary(codeframe: Codeframe, theme_count: int) -> CodeframeSummary:
    return CodeframeSummary(
        id=codeframe.id,
        proposal_id=codeframe.proposal_id,
        version=codeframe.version,
        status=codeframe.status,
        based_on_id=codeframe.based_on_id,
        created_by=codeframe.created_by,
        created_at=codeframe.created_at,
        published_at=codeframe.published_at,
        theme_count=theme_count,
    )


async def codeframe_out(session: AsyncSession, codeframe: Codeframe) -> CodeframeOut:
    await session.refresh(codeframe)
    themes = await _themes(session, codeframe.id)
    codes = {t.id: t.code for t in themes}
    return CodeframeOut(
        **_summary(codeframe, len(themes)).model_dump(),
        change_log=list(codeframe.change_log),
        themes=[
            ThemeOut(
                id=t.id,
                code=t.code,
                label=t.label,
                description=t.description,
                include_guidance=t.include_guidance,
                exclude_guidance=t.exclude_guidance,
                parent_code=codes.get(t.parent_id) if t.parent_id else None,
                examples=list(t.examples),
                origin_theme_ids=[uuid.UUID(i) for i in t.origin_theme_ids],
                position=t.position,
            )
            for t in themes
        ],
    )


async def list_codeframes(
    session: AsyncSession, *, proposal_id: uuid.UUID, user: User
) -> list[CodeframeSummary]:
    await authorise_proposal(session, proposal_id=proposal_id, user=user, write=False)
    rows = await session.execute(
        select(Codeframe, func.count(Theme.id))
        .outerjoin(Theme, Theme.codeframe_id == Codeframe.id)
        .where(Codeframe.proposal_id == proposal_id)
        .group_by(Codeframe.id)
        .order_by(Codeframe.version)
    )
    return [_summary(cf, count) for cf, count in rows]


async def get_codeframe(
    session: AsyncSession, *, codeframe_id: uuid.UUID, user: User
) -> CodeframeOut:
    codeframe, _ = await _codeframe(session, codeframe_id, user, write=False)
    return await codeframe_out(session, codeframe)


async def published_codeframe(session: AsyncSession, proposal_id: uuid.UUID) -> Codeframe | None:
    return await session.scalar(
        select(Codeframe).where(
            Codeframe.proposal_id == proposal_id, Codeframe.status == CodeframeStatus.published
        )
    )


# --------------------------------------------------------------------------------------
# Building a version in memory
# --------------------------------------------------------------------------------------


@dataclass
class _Working:
    code: str
    label: str
    description: str = ""
    include_guidance: str = ""
    exclude_guidance: str = ""
    parent_code: str | None = None
    examples: list[str] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)


class _Builder:
    """Themes of a version being built, with the change log of what was done to them."""

    def __init__(self, prefix: str, used_numbers: set[int], themes: list[_Working]):
        self.prefix = prefix
        self.used = set(used_numbers)
        self.themes: dict[str, _Working] = {t.code: t for t in themes}
        self.log: list[dict[str, Any]] = []

    def new_code(self) -> str:
        n = max(self.used, default=0) + 1
        self.used.add(n)
        return f"{self.prefix}{n:02d}"

    def fail(self, loc: list[str | int], message: str) -> InvalidCodeframe:
        return InvalidCodeframe(message, fields=[field_error(loc, message)])

    def need(self, code: str, loc: list[str | int]) -> _Working:
        if code not in self.themes:
            raise self.fail(loc, f"No theme {code} in this codeframe.")
        return self.themes[code]

    def make(self, data: ThemeIn, loc: list[str | int], origins: list[str]) -> _Working:
        code = data.code or self.new_code()
        if code in self.themes:
            raise self.fail([*loc, "code"], f"Theme code {code} is already used.")
        match = re.fullmatch(re.escape(self.prefix) + r"(\d+)", code)
        if match:
            self.used.add(int(match.group(1)))
        theme = _Working(
            code=code,
            label=data.label,
            description=data.description,
            include_guidance=data.include_guidance,
            exclude_guidance=data.exclude_guidance,
            parent_code=data.parent_code,
            examples=list(data.examples),
            origins=origins,
        )
        self.themes[code] = theme
        return theme

    def children(self, code: str) -> list[str]:
        return [t.code for t in self.themes.values() if t.parent_code == code]

    def apply(self, op: Operation, loc: list[str | int]) -> None:
        if isinstance(op, AddOp):
            theme = self.make(op.theme, [*loc, "theme"], [])
            self.log.append({"op": "add", "code": theme.code, "label": theme.label})
        elif isinstance(op, RenameOp):
            theme = self.need(op.code, [*loc, "code"])
            before = {"label": theme.label, "description": theme.description}
            theme.label = op.label if op.label is not None else theme.label
            if op.description is not None:
                theme.description = op.description
            after = {"label": theme.label, "description": theme.description}
            self.log.append({"op": "rename", "code": op.code, "before": before, "after": after})
        elif isinstance(op, MergeOp):
            if len(set(op.codes)) != len(op.codes):
                raise self.fail([*loc, "codes"], "A theme is named twice in the merge.")
            merged = [self.need(c, [*loc, "codes", i]) for i, c in enumerate(op.codes)]
            for c in op.codes:
                del self.themes[c]
            origins = sorted({o for t in merged for o in t.origins})
            into = self.make(op.into, [*loc, "into"], origins)
            for t in self.themes.values():
                if t.parent_code in op.codes:
                    t.parent_code = into.code
            self.log.append({"op": "merge", "codes": list(op.codes), "into": into.code})
        elif isinstance(op, SplitOp):
            theme = self.need(op.code, [*loc, "code"])
            if self.children(op.code):
                raise self.fail([*loc, "code"], f"{op.code} has sub-themes; move them first.")
            del self.themes[op.code]
            targets = [
                self.make(t, [*loc, "into", i], list(theme.origins)) for i, t in enumerate(op.into)
            ]
            self.log.append({"op": "split", "code": op.code, "into": [t.code for t in targets]})
        elif isinstance(op, RetireOp):
            self.need(op.code, [*loc, "code"])
            if self.children(op.code):
                raise self.fail([*loc, "code"], f"{op.code} has sub-themes; retire them first.")
            del self.themes[op.code]
            self.log.append({"op": "retire", "code": op.code})

    def check_parents(self) -> None:
        for t in self.themes.values():
            if t.parent_code is None:
                continue
            parent = self.themes.get(t.parent_code)
            if parent is None:
                raise self.fail(["parent_code"], f"{t.code}: no parent theme {t.parent_code}.")
            if parent.parent_code is not None or self.children(t.code):
                raise self.fail(["parent_code"], f"{t.code}: themes have two levels at most.")


async def _prefix_and_numbers(session: AsyncSession, proposal: Proposal) -> tuple[str, set[int]]:
    """Generated codes are P<n>-<nn>, never reusing a number any version of the proposal used."""
    prefix = f"P{proposal.position + 1}-"
    codes = await session.scalars(
        select(Theme.code)
        .join(Codeframe, Codeframe.id == Theme.codeframe_id)
        .where(Codeframe.proposal_id == proposal.id)
    )
    numbers = set()
    for code in codes:
        match = re.fullmatch(re.escape(prefix) + r"(\d+)", code)
        if match:
            numbers.add(int(match.group(1)))
    return prefix, numbers


def _rows(
    codeframe_id: uuid.UUID, themes: list[_Working], known: dict[str, uuid.UUID] | None = None
) -> list[Theme]:
    ids = (known or {}) | {t.code: uuid.uuid4() for t in themes}
    rows = [
        Theme(
            id=ids[t.code],
            codeframe_id=codeframe_id,
            code=t.code,
            label=t.label,
            description=t.description,
            include_guidance=t.include_guidance,
            exclude_guidance=t.exclude_guidance,
            parent_id=ids[t.parent_code] if t.parent_code else None,
            examples=t.examples,
            origin_theme_ids=t.origins,
            position=position,
        )
        for position, t in enumerate(themes)
    ]
    # Parents first, so every row's parent exists when it is inserted.
    return sorted(rows, key=lambda r: r.parent_id is not None)


def _working(themes: list[Theme]) -> list[_Working]:
    codes = {t.id: t.code for t in themes}
    return [
        _Working(
            code=t.code,
            label=t.label,
            description=t.description,
            include_guidance=t.include_guidance,
            exclude_guidance=t.exclude_guidance,
            parent_code=codes[t.parent_id] if t.parent_id else None,
            examples=list(t.examples),
            origins=[str(t.id)],
        )
        for t in themes
    ]


# --------------------------------------------------------------------------------------
# Changing
# --------------------------------------------------------------------------------------


async def _audit(
    session: AsyncSession,
    action: str,
    codeframe: Codeframe,
    proposal: Proposal,
    user: User,
    before: Any,
    after: Any,
) -> None:
    await record_event(
        session,
        action=action,
        entity_type="codeframe",
        entity_id=codeframe.id,
        before=before,
        after=after,
        actor=Actor.for_user(user),
        consultation_id=proposal.consultation_id,
    )


async def _lock_versions(session: AsyncSession, proposal_id: uuid.UUID) -> list[Codeframe]:
    """Serialises version changes of one proposal (creating, publishing)."""
    await session.execute(select(Proposal.id).where(Proposal.id == proposal_id).with_for_update())
    return list(
        await session.scalars(select(Codeframe).where(Codeframe.proposal_id == proposal_id))
    )


async def create_codeframe(
    session: AsyncSession, *, proposal_id: uuid.UUID, user: User, data: CodeframeCreate
) -> CodeframeOut:
    proposal, _ = await authorise_proposal(session, proposal_id=proposal_id, user=user, write=True)
    versions = await _lock_versions(session, proposal_id)
    if any(v.status == CodeframeStatus.draft for v in versions):
        raise CodeframeDraftExists()
    prefix, numbers = await _prefix_and_numbers(session, proposal)
    log: list[dict[str, Any]]
    if data.based_on is not None:
        base = next((v for v in versions if v.id == data.based_on), None)
        if base is None:
            raise InvalidCodeframe(
                "based_on is not a version of this proposal.",
                fields=[field_error(["based_on"], "Not a version of this proposal.")],
            )
        if base.status != CodeframeStatus.published:
            raise CodeframeNotCurrent()
        builder = _Builder(prefix, numbers, _working(await _themes(session, base.id)))
        for i, op in enumerate(data.operations):
            builder.apply(op, ["operations", i])
        log = [{"op": "based_on", "version": base.version}, *builder.log]
    else:
        builder = _Builder(prefix, numbers, [])
        for i, theme in enumerate(data.themes):
            builder.make(theme, ["themes", i], [])
        log = [{"op": "create", "themes": len(data.themes)}]
    builder.check_parents()
    codeframe = Codeframe(
        proposal_id=proposal_id,
        version=max((v.version for v in versions), default=0) + 1,
        status=CodeframeStatus.draft,
        based_on_id=data.based_on,
        change_log=_stamped(log, user),
        created_by=user.id,
    )
    session.add(codeframe)
    await session.flush()
    session.add_all(_rows(codeframe.id, list(builder.themes.values())))
    await session.flush()
    out = await codeframe_out(session, codeframe)
    await _audit(
        session,
        "codeframe.create",
        codeframe,
        proposal,
        user,
        None,
        {"version": out.version, "themes": [t.code for t in out.themes], "log": log},
    )
    return out


def _stamped(entries: list[dict[str, Any]], user: User) -> list[dict[str, Any]]:
    at = datetime.now(UTC).isoformat()
    return [{**e, "by": str(user.id), "at": at} for e in entries]


async def _draft(
    session: AsyncSession, codeframe_id: uuid.UUID, user: User
) -> tuple[Codeframe, Proposal]:
    codeframe, proposal = await _codeframe(session, codeframe_id, user, write=True, lock=True)
    if codeframe.status != CodeframeStatus.draft:
        raise CodeframePublished()
    return codeframe, proposal


async def _edit(
    session: AsyncSession,
    codeframe: Codeframe,
    proposal: Proposal,
    change: Any,
    user: User,
) -> CodeframeOut:
    """Rebuilds the draft's themes through the builder (same checks as operations) and
    rewrites changed rows; theme ids of unchanged codes are kept."""
    themes = await _themes(session, codeframe.id)
    by_code = {t.code: t for t in themes}
    working = _working(themes)
    for w in working:
        w.origins = list(by_code[w.code].origin_theme_ids)
    prefix, numbers = await _prefix_and_numbers(session, proposal)
    builder = _Builder(prefix, numbers, working)
    change(builder)
    builder.check_parents()
    new = [t for code, t in builder.themes.items() if code not in by_code]
    # Retired, merged and split themes leave the draft (a draft has no codings).
    removed = [t for t in themes if t.code not in builder.themes]
    for gone in sorted(removed, key=lambda r: r.parent_id is None):
        await session.delete(gone)
    if removed:
        await session.flush()
    themes = [t for t in themes if t.code in builder.themes]
    added = _rows(codeframe.id, new, {t.code: t.id for t in themes})
    session.add_all(added)
    await session.flush()
    ids = {t.code: t.id for t in themes} | {t.code: t.id for t in added}
    for w in builder.themes.values():
        row = by_code.get(w.code)
        if row is None:
            continue
        row.label = w.label
        row.description = w.description
        row.include_guidance = w.include_guidance
        row.exclude_guidance = w.exclude_guidance
        row.examples = w.examples
        row.parent_id = ids[w.parent_code] if w.parent_code else None
    for row in added:
        row.position = len(themes) + row.position
    codeframe.change_log = [*codeframe.change_log, *_stamped(builder.log, user)]
    await session.flush()
    await _audit(session, "codeframe.edit", codeframe, proposal, user, None, builder.log)
    return await codeframe_out(session, codeframe)


async def add_theme(
    session: AsyncSession, *, codeframe_id: uuid.UUID, user: User, data: ThemeIn
) -> CodeframeOut:
    codeframe, proposal = await _draft(session, codeframe_id, user)

    def change(builder: _Builder) -> None:
        builder.apply(AddOp(op="add", theme=data), [])

    return await _edit(session, codeframe, proposal, change, user)


async def update_theme(
    session: AsyncSession, *, codeframe_id: uuid.UUID, code: str, user: User, data: ThemeUpdate
) -> CodeframeOut:
    codeframe, proposal = await _draft(session, codeframe_id, user)
    changes = data.model_dump(exclude_unset=True)

    def change(builder: _Builder) -> None:
        theme = builder.themes.get(code)
        if theme is None:
            raise NotFound(f"No theme {code} in this codeframe.")
        before = {k: getattr(theme, k) for k in changes}
        for key, value in changes.items():
            if value is None and key != "parent_code":
                continue
            setattr(theme, key, value)
        after = {k: getattr(theme, k) for k in changes}
        builder.log.append({"op": "edit", "code": code, "before": before, "after": after})

    return await _edit(session, codeframe, proposal, change, user)


async def apply_to_draft(
    session: AsyncSession, *, codeframe_id: uuid.UUID, user: User, operations: list[Operation]
) -> CodeframeOut:
    """Applies change-log operations (add, rename, merge, split, retire) to a draft, with the
    same checks as operations on a new version; all or nothing."""
    codeframe, proposal = await _draft(session, codeframe_id, user)

    def change(builder: _Builder) -> None:
        for i, op in enumerate(operations):
            builder.apply(op, ["operations", i])

    return await _edit(session, codeframe, proposal, change, user)


async def publish(session: AsyncSession, *, codeframe_id: uuid.UUID, user: User) -> CodeframeOut:
    codeframe, proposal = await _codeframe(session, codeframe_id, user, write=True)
    versions = await _lock_versions(session, codeframe.proposal_id)
    await session.refresh(codeframe)
    if codeframe.status != CodeframeStatus.draft:
        raise CodeframePublished()
    themes = await _themes(session, codeframe.id)
    if not themes:
        raise CodeframeEmpty()
    current = next((v for v in versions if v.status == CodeframeStatus.published), None)
    if codeframe.based_on_id is not None and (
        current is None or current.id != codeframe.based_on_id
    ):
        raise CodeframeNotCurrent("The version this draft is based on is no longer current.")
    if current is not None:
        current.status = CodeframeStatus.superseded
        await session.flush()
    codeframe.status = CodeframeStatus.published
    codeframe.published_at = datetime.now(UTC)
    carried = 0
    if codeframe.based_on_id is not None:
        carried = await carry_codings(session, codeframe=codeframe, themes=themes)
    codeframe.change_log = [
        *codeframe.change_log,
        *_stamped([{"op": "publish", "carried_codings": carried}], user),
    ]
    await session.flush()
    await _audit(
        session,
        "codeframe.publish",
        codeframe,
        proposal,
        user,
        {"status": "draft", "current_version": current.version if current else None},
        {"status": "published", "version": codeframe.version, "carried_codings": carried},
    )
    return await codeframe_out(session, codeframe)


CARRY_SQL = text(
    """
    INSERT INTO codings (
        answer_id, theme_id, codeframe_id, present, source, user_id, run_id, confidence,
        evidence, carried_from_id, needs_review, is_current, created_at
    )
    SELECT DISTINCT ON (m.new_theme_id, c.answer_id)
        c.answer_id, m.new_theme_id, :codeframe_id, c.present, c.source, c.user_id, c.run_id,
        c.confidence,
        c.evidence || jsonb_build_object('carried', jsonb_build_object(
            'operation', m.kind, 'from_code', t.code, 'from_coding', c.id::text)),
        c.id, (m.kind = 'split' AND c.present), true, now()
    FROM unnest(CAST(:new_ids AS uuid[]), CAST(:old_ids AS uuid[]), CAST(:kinds AS text[]))
        AS m(new_theme_id, old_theme_id, kind)
    JOIN codings c ON c.theme_id = m.old_theme_id AND c.is_current
    JOIN themes t ON t.id = c.theme_id
    ORDER BY m.new_theme_id, c.answer_id, c.present DESC, c.confidence DESC NULLS LAST,
        c.created_at DESC
    """
)


CARRY_IMPLICIT_SQL = text(
    """
    INSERT INTO codings (
        answer_id, theme_id, codeframe_id, present, source, user_id, run_id, confidence,
        evidence, carried_from_id, needs_review, is_current, created_at
    )
    SELECT DISTINCT ON (c.answer_id)
        c.answer_id, :theme_id, :codeframe_id, false, c.source, c.user_id, c.run_id,
        least(c.confidence, 1.0 - c.confidence),
        jsonb_build_object('carried', jsonb_build_object(
            'operation', 'implicit_absent', 'from_code', t.code, 'from_coding', c.id::text)),
        c.id, false, true, now()
    FROM codings c
    JOIN themes t ON t.id = c.theme_id
    WHERE c.codeframe_id = :old_codeframe_id AND c.is_current
      AND NOT EXISTS (
          SELECT 1 FROM codings n
          WHERE n.answer_id = c.answer_id AND n.codeframe_id = :codeframe_id AND n.is_current)
    ORDER BY c.answer_id, c.present, greatest(c.confidence, 1.0 - c.confidence) NULLS LAST,
        t.position, t.code
    """
)


async def carry_codings(session: AsyncSession, *, codeframe: Codeframe, themes: list[Theme]) -> int:
    """Carries the previous version's current decisions to this version (see module doc)."""
    origin_use = Counter(o for t in themes for o in t.origin_theme_ids)
    new_ids, old_ids, kinds = [], [], []
    for theme in themes:
        for origin in theme.origin_theme_ids:
            if len(theme.origin_theme_ids) > 1:
                kind = "merge"
            elif origin_use[origin] > 1:
                kind = "split"
            else:
                kind = "copy"
            new_ids.append(theme.id)
            old_ids.append(uuid.UUID(origin))
            kinds.append(kind)
    if not new_ids:
        return 0
    result = await session.execute(
        CARRY_SQL,
        {"codeframe_id": codeframe.id, "new_ids": new_ids, "old_ids": old_ids, "kinds": kinds},
    )
    carried = int(getattr(result, "rowcount", 0) or 0)
    first = min((t for t in themes if t.origin_theme_ids), key=lambda t: (t.position, t.code))
    implicit = await session.execute(
        CARRY_IMPLICIT_SQL,
        {
            "theme_id": first.id,
            "codeframe_id": codeframe.id,
            "old_codeframe_id": codeframe.based_on_id,
        },
    )
    return carried + int(getattr(implicit, "rowcount", 0) or 0)

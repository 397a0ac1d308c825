"""Recording audit events in a hash chain, verifying the chain, exporting it as JSONL.

The chain
---------
Every event has ``seq`` (1, 2, 3... with no gaps), ``prev_hash`` (the previous event's
``hash``; 64 zeros for the first event) and ``hash``::

    hash = sha256(canonical_json(event fields except "hash")).hexdigest()

The hashed fields are exactly the keys of one exported JSONL line minus ``hash``:
seq, id, occurred_at, actor_type, actor_id, actor_label, consultation_id, action,
entity_type, entity_id, before, after, prev_hash.

Canonical JSON is Python's ``json.dumps(fields, sort_keys=True, separators=(",", ":"))``
(so keys sorted at every level, no spaces, non-ASCII escaped as ``\\uXXXX``), encoded
as UTF-8. Timestamps are UTC ISO 8601 with microseconds and a ``Z``
(``2026-11-21T22:45:00.123456Z``); UUIDs are lower-case strings; ``before`` and ``after``
are the JSON values as PostgreSQL's JSONB returns them.

Anyone can re-verify a full export (``consult audit export > events.jsonl``)::

    import hashlib, json
    prev = "0" * 64
    for n, line in enumerate(open("events.jsonl"), start=1):
        event = json.loads(line)
        claimed = event.pop("hash")
        event.pop("actor_email", None)  # staff exports only; not hashed
        body = json.dumps(event, sort_keys=True, separators=(",", ":")).encode()
        assert event["seq"] == n and event["prev_hash"] == prev, n
        assert hashlib.sha256(body).hexdigest() == claimed, n
        prev = claimed

An export filtered to one consultation skips other consultations' events, so there each
event's own hash is checked but its ``prev_hash`` points at an event that may not be in
the file.

Staff in the log: a user actor is recorded as its role (``actor_label``) and user id
(``actor_id``), never its email. Exports for admins and analysts add ``actor_email``
(outside the hash); reviewers' exports carry no email at all.

Anchoring the head: ``GET /api/v1/audit/head`` and ``consult audit verify --anchor FILE``
give the chain's latest ``seq`` and ``hash``. Publish them somewhere the database's
operators cannot rewrite (a signed email, a public page, a git repository); later,
``consult audit verify --expect-head SEQ:HASH`` (or ``--anchor FILE``, which checks every
head recorded in FILE) fails if the chain no longer extends that head: events were
removed from the end, or the whole log was rewritten with recomputed hashes, which
``verify`` alone cannot notice.

Writers are serialised by a transaction-scoped advisory lock, so each event is appended
to the head its transaction sees; the unique ``prev_hash`` makes a fork impossible even
if that were bypassed. The lock is held until commit: audit events are for deliberate
changes, not bulk paths (batch those into one event per operation).

``before`` and ``after`` must never hold raw answer text or respondents' contact details:
reviewers can export their consultation's events. Reference entities by id instead.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import ActorType, AuditEvent
from app.consultations.models import Consultation
from app.consultations.service import require_access
from app.enums import Role
from app.errors import Forbidden, NotFound
from app.users.models import User

GENESIS_HASH = "0" * 64
# pg_advisory_xact_lock key for appending to the chain ("audit" in ASCII).
CHAIN_LOCK_KEY = 0x6175646974
BATCH_SIZE = 1000
HASHED_FIELDS = (
    "seq",
    "id",
    "occurred_at",
    "actor_type",
    "actor_id",
    "actor_label",
    "consultation_id",
    "action",
    "entity_type",
    "entity_id",
    "before",
    "after",
    "prev_hash",
)


@dataclass(frozen=True)
class Actor:
    type: ActorType
    id: str | None = None
    label: str = ""

    @classmethod
    def for_user(cls, user: User) -> Actor:
        # Role and opaque id only: reviewers read the log, and staff emails are personal data
        # that an append-only log could never erase. Staff exports add the email (actor_email).
        return cls(ActorType.user, str(user.id), user.role.value)

    @classmethod
    def respondent(cls, respondent_id: uuid.UUID) -> Actor:
        # No name or email: reviewers read the log and must not learn who responded.
        return cls(ActorType.respondent, str(respondent_id), "respondent")

    @classmethod
    def system(cls, label: str) -> Actor:
        return cls(ActorType.system, None, label)

    @classmethod
    def model(cls, name: str) -> Actor:
        return cls(ActorType.model, name, name)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (uuid.UUID, date, Decimal)):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} cannot go in an audit event")


def canonical_json(fields: Mapping[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), default=_json_default).encode()


def event_fields(event: Any) -> dict[str, Any]:
    """The hashed fields of an event (an AuditEvent or a row of its table), as exported."""
    return {
        "seq": event.seq,
        "id": str(event.id),
        "occurred_at": format_time(event.occurred_at),
        "actor_type": ActorType(event.actor_type).value,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "consultation_id": str(event.consultation_id) if event.consultation_id else None,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "before": event.before,
        "after": event.after,
        "prev_hash": event.prev_hash,
    }


def compute_hash(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(fields)).hexdigest()


_HEAD = text(
    """
    SELECT (SELECT seq FROM audit_events ORDER BY seq DESC LIMIT 1) AS seq,
           (SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1) AS hash,
           CAST(:before AS jsonb) AS before,
           CAST(:after AS jsonb) AS after
    """
)


def _to_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=_json_default)


async def record_event(
    session: AsyncSession,
    *,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID | str | None,
    before: Any,
    after: Any,
    actor: Actor,
    consultation_id: uuid.UUID | None = None,
) -> AuditEvent:
    """Appends one event to the chain (flushes; the caller's transaction commits it).

    `before` and `after` are JSON-able values (UUIDs, datetimes, enums and decimals are
    turned into strings); None means "nothing" (e.g. before a creation).
    """
    # The lock is a statement of its own: in READ COMMITTED the next statement's snapshot
    # then includes the event committed by whoever held the lock before us.
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    # before/after pass through JSONB first, so the hash covers exactly what verify reads back
    # (JSONB normalises numbers, for one).
    head = (
        await session.execute(_HEAD, {"before": _to_json(before), "after": _to_json(after)})
    ).one()
    event = AuditEvent(
        seq=(head.seq or 0) + 1,
        id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label,
        consultation_id=consultation_id,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id) if entity_id is not None else None,
        before=head.before,
        after=head.after,
        prev_hash=head.hash or GENESIS_HASH,
    )
    event.hash = compute_hash(event_fields(event))
    session.add(event)
    await session.flush()
    return event


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events_checked: int
    first_bad_seq: int | None = None
    first_bad_id: uuid.UUID | None = None
    reason: str | None = None
    last_seq: int | None = None
    last_hash: str | None = None


async def _batches(
    session: AsyncSession, *, consultation_id: uuid.UUID | None = None
) -> AsyncIterator[Sequence[Any]]:
    """Event rows in seq order, a batch at a time.

    Keyset pagination (no long-lived cursor) over plain rows (not ORM objects, so nothing
    accumulates in the session): memory stays flat however long the log is.
    """
    table = AuditEvent.__table__
    after_seq = 0
    while True:
        query = select(table).where(table.c.seq > after_seq)
        if consultation_id is not None:
            query = query.where(table.c.consultation_id == consultation_id)
        batch = (await session.execute(query.order_by(table.c.seq).limit(BATCH_SIZE))).all()
        if not batch:
            return
        yield batch
        after_seq = batch[-1].seq


async def verify_chain(session: AsyncSession) -> VerifyResult:
    """Recomputes every hash in seq order and names the first event that does not fit."""
    checked = 0
    prev_seq, prev_hash = 0, GENESIS_HASH
    async for batch in _batches(session):
        for event in batch:
            checked += 1
            reason = None
            if event.seq != prev_seq + 1:
                reason = (
                    f"gap in seq: expected {prev_seq + 1}, found {event.seq} (events are missing)"
                )
            elif event.prev_hash != prev_hash:
                reason = (
                    f"prev_hash mismatch: it does not match the hash of event {prev_seq} "
                    "(an event before it was changed, removed or inserted)"
                )
            elif compute_hash(event_fields(event)) != event.hash:
                reason = "hash mismatch: the event's content was changed after it was recorded"
            if reason is not None:
                return VerifyResult(
                    ok=False,
                    events_checked=checked,
                    first_bad_seq=event.seq,
                    first_bad_id=event.id,
                    reason=reason,
                    last_seq=prev_seq or None,
                    last_hash=prev_hash if prev_seq else None,
                )
            prev_seq, prev_hash = event.seq, event.hash
    return VerifyResult(
        ok=True,
        events_checked=checked,
        last_seq=prev_seq or None,
        last_hash=prev_hash if prev_seq else None,
    )


@dataclass(frozen=True)
class Head:
    """The chain's latest event: publish `seq:hash` to detect a later truncation or rewrite."""

    seq: int
    hash: str
    occurred_at: datetime

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


async def chain_head(session: AsyncSession) -> Head | None:
    table = AuditEvent.__table__
    row = (
        await session.execute(
            select(table.c.seq, table.c.hash, table.c.occurred_at)
            .order_by(table.c.seq.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else Head(seq=row.seq, hash=row.hash, occurred_at=row.occurred_at)


def parse_head(value: str) -> tuple[int, str]:
    """`SEQ:HASH` (as printed by `consult audit verify`) -> (seq, hash); ValueError if not."""
    seq_text, sep, digest = value.strip().partition(":")
    digest = digest.strip().lower()
    if not sep or not seq_text.strip().isdigit() or len(digest) != 64:
        raise ValueError(f"'{value}' is not SEQ:HASH (a number, a colon, 64 hex digits).")
    int(digest, 16)
    return int(seq_text), digest


async def check_extends(session: AsyncSession, *, seq: int, digest: str) -> str | None:
    """None if the chain still holds event `seq` with hash `digest`, else what is wrong.

    With `verify_chain` passing, this proves the current chain extends that head: each
    event's hash covers its predecessor's, so every event up to `seq` is unchanged.
    """
    table = AuditEvent.__table__
    found = await session.scalar(select(table.c.hash).where(table.c.seq == seq))
    if found is None:
        last = await chain_head(session)
        return (
            f"event {seq} is missing (the log now ends at seq {last.seq if last else 0}): "
            "it was truncated"
        )
    if found != digest:
        return (
            f"event {seq} now has hash {found}, not {digest}: "
            "the log was rewritten from that event or before"
        )
    return None


def export_line(event: Any, *, actor_email: str | None = None, mask_label: bool = False) -> str:
    fields = event_fields(event)
    fields["hash"] = event.hash
    if actor_email is not None:
        fields["actor_email"] = actor_email
    if mask_label:
        fields["actor_label"] = "staff"
        fields["masked"] = ["actor_label"]
    return canonical_json(fields).decode() + "\n"


def _user_id(event: Any) -> uuid.UUID | None:
    if ActorType(event.actor_type) != ActorType.user or not event.actor_id:
        return None
    try:
        return uuid.UUID(event.actor_id)
    except ValueError:
        return None


async def export_lines(
    session: AsyncSession, *, consultation_id: uuid.UUID | None = None, staff_view: bool = True
) -> AsyncIterator[str]:
    """The log as JSONL (one event per line, in seq order), optionally one consultation's.

    `staff_view` (admins, analysts, the CLI) adds each user actor's current email as
    `actor_email`, which the hash does not cover. Without it (reviewers), no email appears:
    a user actor is its role and opaque id; an event recorded before labels stopped being
    emails has its label replaced by "staff" and says so in `masked` (its own hash then
    cannot be rechecked from the file; the chain still verifies in the database).
    """
    async for batch in _batches(session, consultation_id=consultation_id):
        emails: dict[uuid.UUID, str] = {}
        if staff_view:
            ids = {i for i in map(_user_id, batch) if i is not None}
            if ids:
                rows = await session.execute(select(User.id, User.email).where(User.id.in_(ids)))
                emails = {row.id: row.email for row in rows}
        for event in batch:
            user_id = _user_id(event)
            if staff_view:
                yield export_line(event, actor_email=emails.get(user_id) if user_id else None)
            else:
                yield export_line(event, mask_label="@" in (event.actor_label or ""))


def staff_view_for(user: User | None) -> bool:
    """Whether `user` may see staff emails in the audit log (not reviewers)."""
    return user is None or user.role in (Role.admin, Role.analyst)


async def consultation_id_for(session: AsyncSession, *, slug: str) -> uuid.UUID:
    consultation_id = await session.scalar(select(Consultation.id).where(Consultation.slug == slug))
    if consultation_id is None:
        raise NotFound(f"No consultation '{slug}'.")
    return consultation_id


async def authorise_export(
    session: AsyncSession, *, user: User, slug: str | None
) -> uuid.UUID | None:
    """The consultation to export (None: the whole log, admins only)."""
    if slug is None:
        if user.role != Role.admin:
            raise Forbidden("Only admins can export the whole log; pass ?consultation=SLUG.")
        return None
    consultation = await session.scalar(select(Consultation).where(Consultation.slug == slug))
    if consultation is None:
        raise NotFound(f"No consultation '{slug}'.")
    await require_access(
        session,
        consultation=consultation,
        user=user,
        roles=(Role.analyst, Role.reviewer),
        action="read its audit log",
    )
    return consultation.id

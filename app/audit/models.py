"""AuditEvent: one row per change, chained by hashes; the database refuses UPDATE and DELETE."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Index, String
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.enums import checked_enum


class ActorType(StrEnum):
    user = "user"
    respondent = "respondent"
    system = "system"
    model = "model"


class AuditEvent(Base):
    """An event of the audit log. Written only by `app.audit.service.record_event`.

    `seq` is the chain order: 1, 2, 3... with no gaps. It is assigned by `record_event` under
    a transaction-scoped advisory lock rather than by an identity sequence, because sequences
    are not transactional: a rolled-back transaction would leave a gap that looks like a
    deleted event. Entity and consultation ids are plain values, not foreign keys, so the log
    outlives (and never blocks) the rows it describes.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint("seq > 0", name="seq_positive"),
        Index("ix_audit_events_consultation_id_seq", "consultation_id", "seq"),
        Index("ix_audit_events_entity", "entity_type", "entity_id"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True, default=uuid.uuid4)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_type: Mapped[ActorType] = mapped_column(checked_enum(ActorType, "audit_actor_type"))
    actor_id: Mapped[str | None] = mapped_column(String(100))
    actor_label: Mapped[str] = mapped_column(String(320), default="")
    consultation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    action: Mapped[str] = mapped_column(String(100))
    entity_type: Mapped[str] = mapped_column(String(100))
    entity_id: Mapped[str | None] = mapped_column(String(100))
    before: Mapped[Any] = mapped_column(JSONB(none_as_null=True), nullable=True)
    after: Mapped[Any] = mapped_column(JSONB(none_as_null=True), nullable=True)
    # A second writer that read a stale head would reuse the same prev_hash: refused, no fork.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)

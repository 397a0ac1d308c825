from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, CreatedAt, UUIDPrimaryKey
from app.enums import (
    Channel,
    PublicationConsent,
    RespondentKind,
    ResponseStatus,
    checked_enum,
)


class Respondent(UUIDPrimaryKey, CreatedAt, Base):
    """Who answered. `name` and `email` are personal data: analysts only, never exported."""

    __tablename__ = "respondents"

    consultation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[RespondentKind] = mapped_column(checked_enum(RespondentKind, "respondent_kind"))
    name: Mapped[str | None] = mapped_column(String(200))
    organisation_name: Mapped[str | None] = mapped_column(String(300))
    organisation_type: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(320))
    publication_consent: Mapped[PublicationConsent] = mapped_column(
        checked_enum(PublicationConsent, "publication_consent")
    )
    channel: Mapped[Channel] = mapped_column(checked_enum(Channel, "channel"))
    # Demographic answers and other metadata carried by imports.
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")


class Response(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "responses"
    __table_args__ = (
        UniqueConstraint("consultation_id", "idempotency_key"),
        Index(
            "uq_responses_consultation_id_external_id",
            "consultation_id",
            "external_id",
            unique=True,
            postgresql_where="external_id IS NOT NULL",
        ),
    )

    consultation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    respondent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("respondents.id", ondelete="CASCADE"), index=True
    )
    # The secret of the respondent's view/withdraw link is an HMAC of this code (see security.py).
    receipt_code: Mapped[str] = mapped_column(String(20), unique=True)
    submitted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    status: Mapped[ResponseStatus] = mapped_column(
        checked_enum(ResponseStatus, "response_status"), default=ResponseStatus.received
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    channel: Mapped[Channel] = mapped_column(checked_enum(Channel, "channel"))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    # Hash of the submitted body, so a reused key with a different body is refused.
    request_hash: Mapped[str | None] = mapped_column(String(64))
    # The response's id in the file it was imported from.
    external_id: Mapped[str | None] = mapped_column(String(200))
    import_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("imports.id", ondelete="SET NULL"), index=True
    )
    # The organised text campaign this response belongs to (set by a dedupe run).
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )

    respondent: Mapped[Respondent] = relationship(lazy="raise")
    answers: Mapped[list[Answer]] = relationship(back_populates="response", lazy="raise")


class Answer(UUIDPrimaryKey, Base):
    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)

    response_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    # Exactly as submitted; shown to analysts only.
    text: Mapped[str | None] = mapped_column(Text)
    # Personal data replaced by typed placeholders; what everyone else sees.
    redacted_text: Mapped[str | None] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")

    response: Mapped[Response] = relationship(back_populates="answers", lazy="raise")

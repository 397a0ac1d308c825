from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, CreatedAt, UUIDPrimaryKey
from app.enums import ConsultationStatus, QuestionKind, checked_enum


class Consultation(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "consultations"

    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    opens_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[ConsultationStatus] = mapped_column(
        checked_enum(ConsultationStatus, "consultation_status"), default=ConsultationStatus.draft
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    proposals: Mapped[list[Proposal]] = relationship(
        back_populates="consultation", lazy="raise", order_by="Proposal.position"
    )


class Proposal(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "proposals"

    consultation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    consultation: Mapped[Consultation] = relationship(back_populates="proposals", lazy="raise")
    questions: Mapped[list[Question]] = relationship(
        back_populates="proposal", lazy="raise", order_by="Question.position"
    )


class Question(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "questions"

    proposal_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[QuestionKind] = mapped_column(checked_enum(QuestionKind, "question_kind"))
    options: Mapped[list[str]] = mapped_column(JSONB, default=list)
    required: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The proposal's "Do you agree?" question: each option maps to support/oppose/neutral...
    stance_map: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    proposal: Mapped[Proposal] = relationship(back_populates="questions", lazy="raise")

    @property
    def is_stance(self) -> bool:
        return self.stance_map is not None

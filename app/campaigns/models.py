"""Campaigns: clusters of near-identical responses (an organised text campaign).

Campaign responses are counted and reported separately, never merged or dropped: a response
keeps all its answers and codings and only gains `responses.campaign_id`.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Integer, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, CreatedAt, UUIDPrimaryKey


class Campaign(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "campaigns"

    consultation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    # The dedupe run that found it (no foreign key, as for codings.run_id).
    run_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    # Redacted: the template is shown to reviewers and in reports.
    template_text: Mapped[str] = mapped_column(Text)
    member_count: Mapped[int] = mapped_column(Integer)
    # A short name for tables and reports ("Campaign 1"); analysts may rename it.
    label: Mapped[str] = mapped_column(Text)

"""Candidate themes found by a `discover` run over one proposal's answers."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, CreatedAt, UUIDPrimaryKey


class ThemeSuggestion(UUIDPrimaryKey, CreatedAt, Base):
    """One candidate theme of a discovery run; the latest run's are the proposal's suggestions.

    Representative answers are stored as answer ids: they are shown through the answers'
    redacted text, never the raw text."""

    __tablename__ = "theme_suggestions"
    __table_args__ = (UniqueConstraint("run_id", "position"),)

    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("analysis_runs.id", ondelete="CASCADE"), index=True
    )
    proposal_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    # 0, 1, ...: largest candidate first.
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(Text)
    top_terms: Mapped[list[str]] = mapped_column(JSONB, default=list)
    # Answers whose dominant candidate this is, and their share of the answers discovered on.
    answer_count: Mapped[int] = mapped_column(Integer)
    share: Mapped[float] = mapped_column(Float)
    representative_answer_ids: Mapped[list[str]] = mapped_column(JSONB, default=list)
    # Term weights and other figures of the candidate (for display and provenance).
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)

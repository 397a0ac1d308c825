"""Audit samples, their items and reviewers' blind reviews.

A sample is drawn once from a stored seed and never changes afterwards: its items, the
population sizes it was drawn from (for weighting error rates back) and a hash of the
population (so anyone can check that a redraw used the same data) are kept with it. Each
item keeps the codes the answer carried in the sample's codeframe version when the sample
was drawn: that is the coding the sample audits, so agreement figures do not move when the
coding changes later. A review is one reviewer's independent coding of one item; it is
final once submitted (the comparison with the current codes is shown only afterwards).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, CreatedAt, UUIDPrimaryKey
from app.enums import Stance, checked_enum


class SampleDesign(StrEnum):
    simple = "simple"
    stratified = "stratified"


class Stratification(StrEnum):
    theme = "theme"
    respondent_kind = "respondent_kind"
    confidence_band = "confidence_band"


class AuditSample(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "audit_samples"

    proposal_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    codeframe_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("codeframes.id", ondelete="CASCADE"), index=True
    )
    design: Mapped[SampleDesign] = mapped_column(checked_enum(SampleDesign, "sample_design"))
    stratify_by: Mapped[Stratification | None] = mapped_column(
        checked_enum(Stratification, "sample_stratification")
    )
    allocation: Mapped[str] = mapped_column(String(20), default="proportional")
    min_per_stratum: Mapped[int] = mapped_column(Integer, default=0)
    # What was asked for: a size, or a target margin of error (then size is computed).
    requested_size: Mapped[int | None] = mapped_column(Integer)
    target_margin: Mapped[float | None] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float, default=0.95)
    expected_rate: Mapped[float | None] = mapped_column(Float)
    size: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(BigInteger)
    population: Mapped[int] = mapped_column(Integer)
    # {stratum: N_h} and {stratum: n_h} at draw time; "all" for a simple sample.
    population_sizes: Mapped[dict[str, int]] = mapped_column(JSONB, default=dict)
    sample_sizes: Mapped[dict[str, int]] = mapped_column(JSONB, default=dict)
    # SHA-256 of the sorted "answer_id<TAB>stratum" lines of the population.
    population_hash: Mapped[str] = mapped_column(String(64))
    drawn_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class SampleItem(UUIDPrimaryKey, Base):
    __tablename__ = "audit_sample_items"
    __table_args__ = (
        UniqueConstraint("sample_id", "position"),
        UniqueConstraint("sample_id", "answer_id"),
    )

    sample_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("audit_samples.id", ondelete="CASCADE"))
    answer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("answers.id", ondelete="CASCADE"), index=True
    )
    stratum: Mapped[str] = mapped_column(String(100))
    # Review order (1, 2, ...): strata interleaved so a partly reviewed sample covers them all.
    position: Mapped[int] = mapped_column(Integer)
    # The answer's current decisions in the sample's codeframe version when it was drawn:
    # {"present": [codes], "decisions": {code: {"present", "source", "confidence"}},
    #  "stance": value or null}.
    codes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class Review(UUIDPrimaryKey, Base):
    __tablename__ = "audit_reviews"
    __table_args__ = (
        UniqueConstraint("item_id", "reviewer_id"),
        Index("ix_audit_reviews_sample_id_reviewer_id", "sample_id", "reviewer_id"),
    )

    sample_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("audit_samples.id", ondelete="CASCADE"))
    item_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("audit_sample_items.id", ondelete="CASCADE")
    )
    reviewer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # Theme codes the reviewer judged present (an empty list: none of them).
    themes: Mapped[list[str]] = mapped_column(JSONB, default=list)
    stance: Mapped[Stance | None] = mapped_column(checked_enum(Stance, "stance_value"))
    submitted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

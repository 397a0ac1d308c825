"""Challenges raised by advisory reviewers, and the thread of messages about each.

A challenge is against one of three things (`kind`):
- `coding`: the coding of one answer for one theme in one codeframe version; the proposed
  alternative is the full set of themes the reviewer says apply to the answer;
- `theme`: a theme's definition in a codeframe version; proposed label and description;
- `figure`: a reported figure, referenced freely (proposal, theme, figure name); proposed text.

Status: open -> accepted | rejected (an analyst) | withdrawn (the reviewer who raised it).
A decided challenge never changes again (a trigger in migration 0009 refuses it); the thread
stays open for messages, which are never edited.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UUIDPrimaryKey
from app.enums import checked_enum


class ChallengeKind(StrEnum):
    coding = "coding"
    theme = "theme"
    figure = "figure"


class ChallengeStatus(StrEnum):
    open = "open"
    accepted = "accepted"
    rejected = "rejected"
    withdrawn = "withdrawn"


class ClockCreatedAt:
    # clock_timestamp(), not now(): several messages written in one transaction keep their order.
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp(), nullable=False
    )


class MessageKind(StrEnum):
    reply = "reply"  # anyone in the thread
    accepted = "accepted"  # the analyst's resolution
    rejected = "rejected"  # the analyst's reason
    withdrawn = "withdrawn"  # the reviewer's note on withdrawing


class Challenge(UUIDPrimaryKey, ClockCreatedAt, Base):
    __tablename__ = "challenges"
    __table_args__ = (
        CheckConstraint(
            "(kind <> 'coding' OR (answer_id IS NOT NULL AND codeframe_id IS NOT NULL"
            " AND theme_code IS NOT NULL))"
            " AND (kind <> 'theme' OR (codeframe_id IS NOT NULL AND theme_code IS NOT NULL))"
            " AND (kind <> 'figure' OR figure <> '')",
            name="target_present",
        ),
        CheckConstraint(
            "(status = 'open') = (decided_at IS NULL)"
            " AND (status <> 'rejected' OR btrim(resolution) <> '')",
            name="decision_recorded",
        ),
        Index("ix_challenges_consultation_id_status", "consultation_id", "status"),
        Index("ix_challenges_answer_id", "answer_id", postgresql_where="answer_id IS NOT NULL"),
    )

    consultation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE")
    )
    # Null only for a figure about the consultation as a whole.
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ChallengeKind] = mapped_column(checked_enum(ChallengeKind, "challenge_kind"))
    status: Mapped[ChallengeStatus] = mapped_column(
        checked_enum(ChallengeStatus, "challenge_status"), default=ChallengeStatus.open
    )
    raised_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # What is challenged (see the module doc for which fields each kind uses).
    answer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("answers.id", ondelete="CASCADE")
    )
    codeframe_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("codeframes.id", ondelete="CASCADE")
    )
    theme_code: Mapped[str | None] = mapped_column(String(20))
    figure: Mapped[str] = mapped_column(String(300), default="", server_default="")
    reason: Mapped[str] = mapped_column(Text)
    # coding: {"themes": [codes]}; theme: {"label", "description"}; figure: {"text"}.
    proposed: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # What stood when the challenge was raised (current themes, or the label and description).
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    decided_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The analyst's resolution (accepted) or reason (rejected); the reviewer's note (withdrawn).
    resolution: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The changes an accepted challenge caused: {"coding_ids": [...], "codeframe_id": ...,
    # "codeframe_version": n, "themes": [...]} for a coding; {"codeframe_id", "codeframe_version",
    # "codeframe_status"} for a theme (the draft version carrying the new definition).
    applied: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    applied_codeframe_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("codeframes.id", ondelete="SET NULL")
    )


class ChallengeMessage(UUIDPrimaryKey, ClockCreatedAt, Base):
    __tablename__ = "challenge_messages"
    __table_args__ = (Index("ix_challenge_messages_challenge_id", "challenge_id", "created_at"),)

    challenge_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The author's role when they wrote (reviewer, analyst, admin): the thread shows it.
    author_role: Mapped[str] = mapped_column(String(20))
    kind: Mapped[MessageKind] = mapped_column(checked_enum(MessageKind, "challenge_message_kind"))
    body: Mapped[str] = mapped_column(Text)

"""Coding and stance decisions. Append-only: a change inserts a new row that supersedes.

`is_current` marks the latest decision per (answer, theme) (per (response, proposal) for
stances). It is the one column that ever changes, and only from true to false when a newer
decision supersedes the row; a trigger (migration 0002) refuses any other UPDATE. The flag
keeps "current codes" and the theme summary on a small partial index instead of a
latest-per-group scan over the whole history.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, LargeBinary, String, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, CreatedAt, UUIDPrimaryKey
from app.enums import CodingSource, checked_enum
from app.enums import Stance as StanceValue


class Coding(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "codings"
    __table_args__ = (
        # One current decision per answer and theme (a theme belongs to one codeframe).
        Index(
            "uq_codings_answer_id_theme_id_current",
            "answer_id",
            "theme_id",
            unique=True,
            postgresql_where=text("is_current"),
        ),
        # Theme summary: count current positive decisions per theme of a codeframe.
        Index(
            "ix_codings_codeframe_id_theme_id_present_current",
            "codeframe_id",
            "theme_id",
            "answer_id",
            postgresql_where=text("is_current AND present"),
        ),
        Index("ix_codings_answer_id_codeframe_id", "answer_id", "codeframe_id"),
        Index("ix_codings_run_id", "run_id", postgresql_where=text("run_id IS NOT NULL")),
        Index(
            "ix_codings_supersedes_id",
            "supersedes_id",
            postgresql_where=text("supersedes_id IS NOT NULL"),
        ),
        Index(
            "ix_codings_carried_from_id",
            "carried_from_id",
            postgresql_where=text("carried_from_id IS NOT NULL"),
        ),
    )

    answer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    theme_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("themes.id", ondelete="CASCADE"), index=True
    )
    codeframe_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("codeframes.id", ondelete="CASCADE"))
    present: Mapped[bool]
    source: Mapped[CodingSource] = mapped_column(checked_enum(CodingSource, "coding_source"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The analysis run that produced a model decision (analysis runs: migration 0003).
    run_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    confidence: Mapped[float | None] = mapped_column(Float)
    # Why: contributing terms, nearest coded examples, or the carry-over that made it.
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("codings.id", ondelete="CASCADE")
    )
    # Carried over from the previous codeframe version (merge, split, rename, copy).
    carried_from_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("codings.id", ondelete="CASCADE")
    )
    # Carried to a split target: the analyst must decide which target applies.
    needs_review: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    is_current: Mapped[bool] = mapped_column(default=True, server_default=text("true"))


class Stance(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "stances"
    __table_args__ = (
        Index(
            "uq_stances_response_id_proposal_id_current",
            "response_id",
            "proposal_id",
            unique=True,
            postgresql_where=text("is_current"),
        ),
        Index(
            "ix_stances_proposal_id_value_current",
            "proposal_id",
            "value",
            "response_id",
            postgresql_where=text("is_current"),
        ),
        Index(
            "ix_stances_supersedes_id",
            "supersedes_id",
            postgresql_where=text("supersedes_id IS NOT NULL"),
        ),
    )

    # The answer the stance was read from (the stance question or a free-text answer); null
    # when it was judged from the response as a whole.
    answer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("answers.id", ondelete="CASCADE"), index=True
    )
    response_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    proposal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    value: Mapped[StanceValue] = mapped_column(checked_enum(StanceValue, "stance_value"))
    source: Mapped[CodingSource] = mapped_column(checked_enum(CodingSource, "coding_source"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    run_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    confidence: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("stances.id", ondelete="CASCADE")
    )
    is_current: Mapped[bool] = mapped_column(default=True, server_default=text("true"))


class RunArtefact(CreatedAt, Base):
    """The fitted model of a coding or stance run (pickled), fitted once per run by the
    first chunk that runs and read by the others; `sha256` is the run's `artefact_hash`."""

    __tablename__ = "run_artefacts"

    run_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("analysis_runs.id", ondelete="CASCADE"),
        primary_key=True,
    )
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)

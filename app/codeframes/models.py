"""Codeframe versions and their themes.

A codeframe belongs to one proposal and is numbered 1, 2, ... per proposal. Only a draft can
change; publishing freezes it and marks the previously published version superseded.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, CreatedAt, UUIDPrimaryKey
from app.enums import CodeframeStatus, checked_enum


class Codeframe(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "codeframes"
    __table_args__ = (
        UniqueConstraint("proposal_id", "version"),
        # At most one published (current) version and one draft per proposal.
        Index(
            "uq_codeframes_proposal_id_published",
            "proposal_id",
            unique=True,
            postgresql_where="status = 'published'",
        ),
        Index(
            "uq_codeframes_proposal_id_draft",
            "proposal_id",
            unique=True,
            postgresql_where="status = 'draft'",
        ),
    )

    proposal_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[CodeframeStatus] = mapped_column(
        checked_enum(CodeframeStatus, "codeframe_status"), default=CodeframeStatus.draft
    )
    based_on_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("codeframes.id", ondelete="SET NULL")
    )
    # Every change made to this version, in order: {"op": "add" | "rename" | ..., ...}.
    change_log: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default="[]"
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    themes: Mapped[list[Theme]] = relationship(
        back_populates="codeframe", lazy="raise", order_by="Theme.position"
    )


class Theme(UUIDPrimaryKey, Base):
    __tablename__ = "themes"
    __table_args__ = (UniqueConstraint("codeframe_id", "code"),)

    codeframe_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("codeframes.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    include_guidance: Mapped[str] = mapped_column(Text, default="", server_default="")
    exclude_guidance: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Two levels at most: a parent is itself top-level (checked by the service).
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("themes.id", ondelete="CASCADE"), index=True
    )
    examples: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    # Ids of the previous version's themes this one continues (copy, rename: one; merge: the
    # merged themes; split: the split theme). Codings are carried along this lineage.
    origin_theme_ids: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    position: Mapped[int] = mapped_column(Integer, default=0)

    codeframe: Mapped[Codeframe] = relationship(back_populates="themes", lazy="raise")

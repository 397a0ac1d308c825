"""Precomputed counts behind the theme summary (kept exact by triggers, migration 0007).

`theme_counts` holds, per codeframe version and theme, the number of current positive
codings (`codings.is_current AND present`) of answers in received responses, split by the
dimensions the summary filters on. `answer_counts` holds the denominator: answered
open-text questions of the proposal in received responses, split the same way.

The dimensions never hold NULL so they can form the primary key: `region` is '' when not
given, `stance` is '' when the response has no current stance for the proposal, and
`campaign_id` is the nil UUID when the response is in no campaign (hence no foreign key).
Statement-level triggers with transition tables on codings, stances, answers, responses and
respondents apply each statement's change as a delta in the same transaction; deletes of
answers, responses and respondents and any TRUNCATE recompute the affected proposals.
"""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey, PrimaryKeyConstraint, String, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base

NO_CAMPAIGN = uuid.UUID(int=0)


class ThemeCount(Base):
    __tablename__ = "theme_counts"
    __table_args__ = (
        PrimaryKeyConstraint(
            "codeframe_id", "theme_id", "respondent_kind", "region", "stance", "campaign_id"
        ),
    )

    codeframe_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("codeframes.id", ondelete="CASCADE"))
    theme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("themes.id", ondelete="CASCADE"))
    respondent_kind: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(Text)
    stance: Mapped[str] = mapped_column(String(32))
    campaign_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    n: Mapped[int] = mapped_column(BigInteger)


class AnswerCount(Base):
    __tablename__ = "answer_counts"
    __table_args__ = (
        PrimaryKeyConstraint("proposal_id", "respondent_kind", "region", "stance", "campaign_id"),
    )

    proposal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    respondent_kind: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(Text)
    stance: Mapped[str] = mapped_column(String(32))
    campaign_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    n: Mapped[int] = mapped_column(BigInteger)

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from app.challenges.models import ChallengeKind, ChallengeStatus, MessageKind
from app.codeframes.schemas import Code

Reason = Annotated[str, Field(min_length=1, max_length=10_000)]


class CodingChallengeIn(BaseModel):
    """The coding of one answer for one theme is wrong; `proposed_themes` is the full set
    of themes the reviewer says apply to the answer (empty: none of them)."""

    kind: Literal["coding"]
    answer_id: uuid.UUID
    theme: Code = Field(description="The theme whose coding is challenged, e.g. P1-03.")
    codeframe_id: uuid.UUID | None = Field(
        default=None, description="Default: the proposal's currently published version."
    )
    proposed_themes: list[Code] = Field(default_factory=list, max_length=200)
    reason: Reason


class ThemeChallengeIn(BaseModel):
    """A theme's definition should change: a new label and/or description."""

    kind: Literal["theme"]
    codeframe_id: uuid.UUID
    theme: Code
    proposed_label: str | None = Field(default=None, min_length=1, max_length=200)
    proposed_description: str | None = Field(default=None, max_length=5000)
    reason: Reason


class FigureChallengeIn(BaseModel):
    """A reported figure is wrong or misleading (referenced freely)."""

    kind: Literal["figure"]
    proposal_id: uuid.UUID | None = None
    theme: Code | None = None
    figure: str = Field(min_length=1, max_length=300, description="Which figure, e.g. its name.")
    proposed_text: str = Field(default="", max_length=10_000)
    reason: Reason


ChallengeIn = Annotated[
    CodingChallengeIn | ThemeChallengeIn | FigureChallengeIn, Field(discriminator="kind")
]


class MessageIn(BaseModel):
    body: str = Field(max_length=10_000)


class WithdrawIn(BaseModel):
    note: str = Field(default="", max_length=10_000)


class AcceptIn(BaseModel):
    """Accept and apply. For a coding the proposed themes are applied unless `themes` gives
    the analyst's own final set; for a theme, `label`/`description` override the proposal."""

    resolution: str = Field(default="", max_length=10_000)
    themes: list[Code] | None = Field(default=None, max_length=200)
    label: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)


class RejectIn(BaseModel):
    reason: str = Field(default="", max_length=10_000, description="Required.")


class PersonOut(BaseModel):
    id: uuid.UUID | None
    name: str
    role: str


class MessageOut(BaseModel):
    id: uuid.UUID
    kind: MessageKind
    author: PersonOut
    body: str
    created_at: datetime


class ChallengeOut(BaseModel):
    id: uuid.UUID
    consultation_slug: str
    kind: ChallengeKind
    status: ChallengeStatus
    proposal_id: uuid.UUID | None
    proposal_title: str | None
    answer_id: uuid.UUID | None
    codeframe_id: uuid.UUID | None
    codeframe_version: int | None
    theme_code: str | None
    figure: str
    reason: str
    proposed: dict[str, Any]
    snapshot: dict[str, Any]
    raised_by: PersonOut
    created_at: datetime
    decided_by: PersonOut | None
    decided_at: datetime | None
    resolution: str
    applied: dict[str, Any]
    message_count: int


class ChallengeDetail(ChallengeOut):
    answer_text: str | None = Field(
        default=None, description="The answer's redacted text (coding challenges)."
    )
    messages: list[MessageOut]


class StatusCounts(BaseModel):
    open: int = 0
    accepted: int = 0
    rejected: int = 0
    withdrawn: int = 0
    total: int = 0


class ProposalCounts(BaseModel):
    proposal_id: uuid.UUID | None
    title: str
    counts: StatusCounts


class ChallengeSummary(BaseModel):
    consultation_slug: str
    counts: StatusCounts
    by_kind: dict[str, StatusCounts]
    proposals: list[ProposalCounts]

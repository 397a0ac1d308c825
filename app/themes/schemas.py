from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from app.enums import CodeframeStatus, CodingSource, RespondentKind


class CampaignMode(StrEnum):
    include = "include"  # campaign responses counted with everyone else
    exclude = "exclude"  # left out
    separate = "separate"  # left out of the main columns, counted per campaign beside them
    only = "only"  # (answers) only campaign responses


class StanceFilter(StrEnum):
    support = "support"
    oppose = "oppose"
    mixed = "mixed"
    neutral = "neutral"
    unclear = "unclear"
    none = "none"  # no current stance for the proposal


class Filters(BaseModel):
    respondent_kind: RespondentKind | None = None
    region: str | None = Field(default=None, max_length=100)
    stance: StanceFilter | None = None
    campaign: CampaignMode = CampaignMode.include


class CodeframeRef(BaseModel):
    id: uuid.UUID
    version: int
    status: CodeframeStatus


class CampaignCount(BaseModel):
    campaign_id: uuid.UUID
    count: int
    share: float | None


class ThemeCountOut(BaseModel):
    code: str
    label: str
    parent_code: str | None
    count: int
    share: float | None = Field(description="count / n (None when n is 0)")
    campaigns: list[CampaignCount] = Field(
        default_factory=list, description="campaign=separate: the count in each campaign"
    )


class CampaignColumn(BaseModel):
    campaign_id: uuid.UUID
    label: str
    n: int = Field(description="answers in scope from this campaign's responses")


SHARE_OF = (
    "Unit: answer. count = answers with a current positive coding of the theme; n = answered "
    "open-text questions of the proposal in received (not withdrawn or excluded) responses "
    "matching the filters, coded or not; share = count / n. An answer can carry several "
    "themes, so shares do not add up to 1. A parent theme counts only answers coded with it."
)


class ThemeSummaryOut(BaseModel):
    proposal_id: uuid.UUID
    proposal_title: str
    codeframe: CodeframeRef
    filters: Filters
    unit: str = "answer"
    share_of: str = SHARE_OF
    n: int = Field(description="answers in scope (campaign=separate: outside campaigns)")
    coded_count: int = Field(description="sum of theme counts (codings, not answers)")
    themes: list[ThemeCountOut]
    campaigns: list[CampaignColumn] = Field(default_factory=list)


class CodingOut(BaseModel):
    coding_id: uuid.UUID
    code: str
    label: str
    source: CodingSource
    confidence: float | None
    evidence: dict[str, Any]
    needs_review: bool
    created_at: datetime


class AnswerQuote(BaseModel):
    answer_id: uuid.UUID
    response_id: uuid.UUID
    question_number: str
    redacted_text: str
    respondent_kind: RespondentKind
    region: str | None
    stance: str | None
    campaign_id: uuid.UUID | None
    coding: CodingOut | None = Field(description="the coding of the theme asked for")
    codes: list[str] = Field(description="every theme currently coded present")


class AnswersPage(BaseModel):
    proposal_id: uuid.UUID
    codeframe: CodeframeRef | None
    theme: str | None
    filters: Filters
    q: str | None
    total: int | None = Field(description="answers matching (None with a text search)")
    items: list[AnswerQuote]
    next_cursor: str | None = Field(description="pass as `after` for the next page")

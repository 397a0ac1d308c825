from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.codeframes.schemas import Code
from app.enums import CodingSource, Stance


class CodesIn(BaseModel):
    """A human coding of one answer: the themes present (every other theme: absent)."""

    codeframe_id: uuid.UUID
    themes: list[Code] = Field(default_factory=list, max_length=200)
    stance: Stance | None = None


class CodeOut(BaseModel):
    coding_id: uuid.UUID
    code: str
    label: str
    source: CodingSource
    user_id: uuid.UUID | None
    run_id: uuid.UUID | None
    confidence: float | None
    evidence: dict[str, Any]
    needs_review: bool
    created_at: datetime


class StanceOut(BaseModel):
    stance_id: uuid.UUID
    value: Stance
    source: CodingSource
    user_id: uuid.UUID | None
    run_id: uuid.UUID | None
    confidence: float | None
    created_at: datetime


class AnswerCodesOut(BaseModel):
    answer_id: uuid.UUID
    codeframe_id: uuid.UUID | None
    codeframe_version: int | None
    coded: bool = Field(description="Whether any decision (human or model) exists.")
    codes: list[CodeOut] = Field(description="The themes currently present.")
    stance: StanceOut | None


class DecisionOut(BaseModel):
    id: uuid.UUID
    kind: str = Field(description="coding or stance")
    codeframe_id: uuid.UUID | None
    codeframe_version: int | None
    code: str | None
    present: bool | None
    stance: Stance | None
    source: CodingSource
    user_id: uuid.UUID | None
    user_name: str | None
    run_id: uuid.UUID | None
    confidence: float | None
    evidence: dict[str, Any]
    needs_review: bool
    is_current: bool
    supersedes_id: uuid.UUID | None
    superseded_by_id: uuid.UUID | None
    carried_from_id: uuid.UUID | None
    created_at: datetime


class AnswerHistoryOut(BaseModel):
    answer_id: uuid.UUID
    decisions: list[DecisionOut]


class ProposalRunIn(BaseModel):
    """A code or stance run for one proposal."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(
        description="`code`: code every open-text answer against the published codeframe, "
        "learning from the analysts' codings; `stance`: each response's stance (the stance "
        "question where answered, else predicted from the text).",
        pattern="^(code|stance)$",
    )
    seed: int = Field(default=0, ge=0, le=2**31 - 1, description="Random seed of the model.")
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description='Coder parameters for code runs (e.g. {"decision": "thresholds"}).',
    )
    chunk_size: int | None = Field(
        default=None, ge=100, le=1_000_000, description="Answers per job (default 10,000)."
    )


class ReviewCode(BaseModel):
    code: str
    label: str
    present: bool
    source: CodingSource
    confidence: float | None
    threshold: float | None
    borderline: bool
    needs_review: bool


class ReviewItem(BaseModel):
    answer_id: uuid.UUID
    question_number: str
    redacted_text: str
    codes: list[ReviewCode] = Field(description="The current decisions to check.")
    present: list[str] = Field(description="Themes currently decided present (any source).")


class ReviewQueueOut(BaseModel):
    proposal_id: uuid.UUID
    codeframe_id: uuid.UUID | None
    codeframe_version: int | None
    total: int
    page: int
    per_page: int
    items: list[ReviewItem]


class SuggestedAnswer(BaseModel):
    answer_id: uuid.UUID
    question_number: str
    redacted_text: str
    uncertainty: float = Field(description="1 at a theme's threshold, towards 0 far from it.")
    predicted: list[str]


class SuggestedAnswersOut(BaseModel):
    proposal_id: uuid.UUID
    run_id: uuid.UUID
    codeframe_version: int | None
    candidates: int = Field(description="Uncoded answers considered.")
    items: list[SuggestedAnswer]

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

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

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.enums import ConsultationStatus, QuestionKind, Stance

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,98}[a-z0-9]$"


class QuestionIn(BaseModel):
    number: str = Field(min_length=1, max_length=20)
    text: str = Field(min_length=1, max_length=5000)
    kind: QuestionKind
    options: list[str] = Field(default_factory=list, max_length=100)
    required: bool = False
    stance_map: dict[str, Stance] | None = Field(
        default=None,
        description="Marks the proposal's stance question: each option maps to a stance.",
    )

    @model_validator(mode="after")
    def options_fit_kind(self) -> Self:
        if self.kind == QuestionKind.open_text and self.options:
            raise ValueError("An open_text question has no options.")
        if self.kind != QuestionKind.open_text and len(self.options) < 2:
            raise ValueError("A choice question needs at least two options.")
        if len(set(self.options)) != len(self.options):
            raise ValueError("Options must be distinct.")
        if self.stance_map is not None:
            if self.kind != QuestionKind.single_choice:
                raise ValueError("Only a single_choice question can be the stance question.")
            unknown = set(self.stance_map) - set(self.options)
            if unknown:
                raise ValueError(f"stance_map names options the question lacks: {sorted(unknown)}")
        return self


class QuestionUpdate(BaseModel):
    number: str | None = Field(default=None, min_length=1, max_length=20)
    text: str | None = Field(default=None, min_length=1, max_length=5000)
    required: bool | None = None


class QuestionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: str
    text: str
    kind: QuestionKind
    options: list[str]
    required: bool
    is_stance: bool
    stance_map: dict[str, Stance] | None


class ProposalIn(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    summary: str = Field(default="", max_length=20_000)
    questions: list[QuestionIn] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def one_stance_question(self) -> Self:
        if sum(q.stance_map is not None for q in self.questions) > 1:
            raise ValueError("A proposal has at most one stance question.")
        return self


class ProposalUpdate(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    summary: str | None = Field(default=None, max_length=20_000)


class ProposalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    summary: str
    position: int
    questions: list[QuestionOut]


class ConsultationCreate(BaseModel):
    slug: str = Field(pattern=SLUG_PATTERN, description="Lower-case letters, digits, hyphens.")
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=50_000)
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    proposals: list[ProposalIn] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def dates_in_order(self) -> Self:
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValueError("closes_at must be after opens_at.")
        return self


class ConsultationUpdate(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=50_000)
    opens_at: datetime | None = None
    closes_at: datetime | None = None


class ConsultationSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    slug: str
    title: str
    status: ConsultationStatus
    opens_at: datetime | None
    closes_at: datetime | None


class ConsultationDetail(ConsultationSummary):
    id: uuid.UUID
    description: str
    accepting_responses: bool
    proposals: list[ProposalOut]


class MemberIn(BaseModel):
    email: str = Field(min_length=3, max_length=320)

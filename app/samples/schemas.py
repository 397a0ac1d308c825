from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.enums import Stance
from app.samples.models import SampleDesign, Stratification

MAX_SEED = 2**63 - 1


class SampleCreate(BaseModel):
    """Give a `size`, or a target `margin` of error (the size is then computed)."""

    model_config = ConfigDict(extra="forbid")

    design: SampleDesign = SampleDesign.simple
    stratify_by: Stratification | None = None
    size: int | None = Field(None, ge=1, le=1_000_000)
    margin: float | None = Field(None, gt=0, lt=1)
    confidence: float = Field(0.95, gt=0, lt=1)
    expected_rate: float = Field(0.5, ge=0, le=1)
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="Default: a random seed, stored")
    allocation: Literal["proportional", "equal"] = "proportional"
    min_per_stratum: int | None = Field(
        None, ge=0, le=10_000, description="Stratified only; default 1 (every stratum audited)"
    )
    codeframe_id: uuid.UUID | None = Field(
        None, description="Default: the proposal's published codeframe version"
    )

    @model_validator(mode="after")
    def one_size(self) -> SampleCreate:
        if (self.size is None) == (self.margin is None):
            raise ValueError("give either size or margin, not both")
        if self.design == SampleDesign.stratified and self.stratify_by is None:
            raise ValueError("a stratified sample needs stratify_by")
        if self.design == SampleDesign.simple and (
            self.stratify_by is not None or self.min_per_stratum is not None
        ):
            raise ValueError("stratify_by and min_per_stratum apply to stratified samples only")
        return self


class SampleProgress(BaseModel):
    items: int
    reviewed_items: int  # items with at least one submitted review
    reviews: int
    reviewers: int
    mine: int  # items the caller has reviewed


class SampleOut(BaseModel):
    id: uuid.UUID
    proposal_id: uuid.UUID
    proposal_title: str
    consultation_slug: str
    consultation_title: str
    codeframe_id: uuid.UUID
    codeframe_version: int
    design: SampleDesign
    stratify_by: Stratification | None
    allocation: str
    min_per_stratum: int
    requested_size: int | None
    target_margin: float | None
    confidence: float
    expected_rate: float | None
    size: int
    seed: int
    population: int
    population_sizes: dict[str, int]
    sample_sizes: dict[str, int]
    population_hash: str
    drawn_by: uuid.UUID | None
    created_at: datetime
    progress: SampleProgress


class SampleSizeOut(BaseModel):
    margin: float
    confidence: float
    expected_rate: float
    population: int
    size: int
    method: str


class ItemSummary(BaseModel):
    id: uuid.UUID
    position: int
    # Hidden (null) from a reviewer until they have reviewed the item: a theme stratum
    # would reveal the current codes.
    stratum: str | None
    reviews: int
    reviewed_by_me: bool


class ThemeBrief(BaseModel):
    code: str
    label: str
    description: str
    include_guidance: str
    exclude_guidance: str
    parent_code: str | None


class AnswerBrief(BaseModel):
    """What a reviewer sees of an answer: the redacted text, never the raw text or who wrote it."""

    question_number: str
    question_text: str
    redacted_text: str


class OtherReview(BaseModel):
    reviewer: str  # "Reviewer 2": reviewers are numbered in order of their first review
    present: bool


class ComparisonRow(BaseModel):
    code: str
    label: str
    yours: bool | None  # None for a caller who did not review the item
    current: bool
    current_source: str | None
    current_confidence: float | None
    others: list[OtherReview]
    agree: bool | None  # yours == current


class StanceComparison(BaseModel):
    yours: Stance | None
    current: Stance | None
    others: dict[str, Stance | None]


class Comparison(BaseModel):
    codes_as_of: datetime  # the sample's draw time: the coding the sample audits
    rows: list[ComparisonRow]
    agreed: int
    disagreed: int
    stance: StanceComparison


class ReviewOut(BaseModel):
    id: uuid.UUID
    themes: list[str]
    stance: Stance | None
    submitted_at: datetime


class ItemView(BaseModel):
    id: uuid.UUID
    sample_id: uuid.UUID
    position: int
    items: int
    blind: bool  # True: the caller has not reviewed it yet; no codes are included
    stratum: str | None
    answer: AnswerBrief
    themes: list[ThemeBrief]
    my_review: ReviewOut | None
    comparison: Comparison | None
    next_item_id: uuid.UUID | None  # the caller's next unreviewed item


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    themes: list[str] = Field(max_length=500, description="Codes judged present; [] for none")
    stance: Stance | None = None


class AgreementOut(BaseModel):
    sample_id: uuid.UUID
    codeframe_version: int
    unit: str
    themes: list[str]
    reviewers: list[str]
    items: int
    reviewed_items: int
    reviews: int
    # analysis.agreement.per_theme_agreement reports (to_dict()):
    among_reviewers: dict[str, Any] | None
    reviewers_and_current: dict[str, Any] | None
    per_reviewer: list[dict[str, Any]]
    # analysis.agreement.multilabel_prf_ci (current codes predicted, reviews as gold):
    current_vs_reviewers: dict[str, Any] | None
    stance: dict[str, Any] | None
    # analysis.sampling.estimate_error_rate
    error_rate: dict[str, Any]
    notes: list[str]

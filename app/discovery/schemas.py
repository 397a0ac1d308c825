from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class DiscoverCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n_themes: int | Literal["auto"] = Field(
        default="auto", description='Number of candidates to look for, or "auto".'
    )
    max_themes: int = Field(default=12, ge=2, le=50)
    sample_size: int = Field(
        default=20_000, ge=100, le=1_000_000, description="Seeded sample above this many answers."
    )
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


class Representative(BaseModel):
    answer_id: uuid.UUID
    text: str = Field(description="The answer's redacted text.")


class SuggestionOut(BaseModel):
    id: uuid.UUID
    position: int
    label: str = Field(description="A draft label made of the leading terms.")
    top_terms: list[str]
    answer_count: int = Field(description="Answers whose dominant candidate this is.")
    share: float
    representatives: list[Representative]


class SuggestionsOut(BaseModel):
    proposal_id: uuid.UUID
    run_id: uuid.UUID | None = Field(description="The latest succeeded discover run, if any.")
    run_finished_at: datetime | None
    seed: int | None
    suggestions: list[SuggestionOut]


class AcceptedTheme(BaseModel):
    """One theme of the codeframe: one suggestion accepted, or several merged into one."""

    model_config = ConfigDict(extra="forbid")

    suggestion_ids: list[uuid.UUID] = Field(min_length=1, max_length=50)
    label: str | None = Field(
        default=None, min_length=1, max_length=200, description="Rename (default: the first's)."
    )
    description: str | None = Field(default=None, max_length=5000)


class FromSuggestions(BaseModel):
    """Suggestions not named are dropped. With no draft, a new draft is made (based on the
    published version, if any, so its themes and codings carry); with a draft, the accepted
    themes are added to it."""

    model_config = ConfigDict(extra="forbid")

    themes: list[AcceptedTheme] = Field(min_length=1, max_length=200)

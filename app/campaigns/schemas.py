from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class CampaignOut(BaseModel):
    """An organised text campaign: near-identical responses (a template with small edits).

    Campaign responses are counted and reported separately, never merged or dropped: each
    member keeps all its answers, and its whole answers, including what the respondent added
    to the template, are coded like any other answer."""

    id: uuid.UUID
    label: str
    template_text: str = Field(description="The template letter (redacted text).")
    member_count: int
    run_id: uuid.UUID | None = Field(description="The dedupe run that found it.")
    created_at: datetime


class CampaignMember(BaseModel):
    response_id: uuid.UUID
    added_text: str = Field(
        description=(
            "What this respondent added to the template (redacted; empty if nothing). "
            "It is part of their answer and is coded with it."
        )
    )


class CampaignDetail(CampaignOut):
    members: list[CampaignMember] = Field(
        description="Members in response id order (a page of them: see offset and limit)."
    )
    offset: int
    limit: int

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from app.enums import PublicationConsent, RespondentKind, ResponseStatus


class RespondentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: RespondentKind
    name: str | None = Field(default=None, max_length=200)
    organisation_name: str | None = Field(default=None, max_length=300)
    organisation_type: str | None = Field(default=None, max_length=100)
    email: EmailStr | None = None
    region: str | None = Field(default=None, max_length=100)
    publication_consent: PublicationConsent


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question_id: uuid.UUID
    text: str | None = None
    options: list[str] | None = Field(default=None, max_length=100)


class SubmissionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    respondent: RespondentIn
    answers: list[AnswerIn] = Field(min_length=1, max_length=500)


class Receipt(BaseModel):
    receipt_code: str
    secret: str = Field(
        description="Keep this: with the receipt code it lets you view or withdraw."
    )
    view_url: str
    api_url: str
    submitted_at: datetime
    status: ResponseStatus


class AnswerOut(BaseModel):
    question_id: uuid.UUID
    question_number: str
    question_text: str
    text: str | None
    options: list[str]


class OwnResponse(BaseModel):
    """What a respondent sees of their own response (with the secret)."""

    receipt_code: str
    consultation_slug: str
    submitted_at: datetime
    status: ResponseStatus
    status_changed_at: datetime | None
    respondent_kind: RespondentKind
    organisation_name: str | None
    publication_consent: PublicationConsent
    answers: list[AnswerOut]


class SecretIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: str = Field(min_length=1, max_length=200)


class ExcludeIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class ResponseStatusOut(BaseModel):
    id: uuid.UUID
    status: ResponseStatus
    status_reason: str | None
    status_changed_at: datetime | None

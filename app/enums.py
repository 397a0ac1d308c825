"""Enumerations shared by models, schemas and the CLI (stored as checked strings)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Enum


class Role(StrEnum):
    admin = "admin"
    analyst = "analyst"
    reviewer = "reviewer"


class ConsultationStatus(StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"
    published = "published"


class QuestionKind(StrEnum):
    open_text = "open_text"
    single_choice = "single_choice"
    multi_choice = "multi_choice"


class Stance(StrEnum):
    support = "support"
    oppose = "oppose"
    mixed = "mixed"
    neutral = "neutral"
    unclear = "unclear"


class RespondentKind(StrEnum):
    individual = "individual"
    organisation = "organisation"


class PublicationConsent(StrEnum):
    publish = "publish"
    publish_anonymously = "publish_anonymously"
    do_not_publish = "do_not_publish"


class Channel(StrEnum):
    web = "web"
    api = "api"
    email = "email"
    post = "post"
    import_ = "import"


class ResponseStatus(StrEnum):
    received = "received"
    withdrawn = "withdrawn"
    excluded = "excluded"


def checked_enum(enum_cls: type[StrEnum], name: str) -> Any:
    """A VARCHAR with a CHECK constraint: adding a value later is a plain migration."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


class CodeframeStatus(StrEnum):
    draft = "draft"
    published = "published"
    superseded = "superseded"


class CodingSource(StrEnum):
    human = "human"
    model = "model"

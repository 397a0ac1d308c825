"""Storing responses (API, web form), the respondent's receipt, viewing and withdrawing."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from analysis.redaction import redact
from app.audit.service import Actor, record_event
from app.consultations.models import Consultation, Proposal, Question
from app.consultations.service import accepting_responses, require_access
from app.enums import Channel, ConsultationStatus, ResponseStatus, Role
from app.errors import (
    Conflict,
    ConsultationClosed,
    IdempotencyKeyReused,
    NotFound,
    ValidationFailed,
    field_error,
)
from app.responses.intake import (
    CleanAnswer,
    FormSpec,
    QuestionSpec,
    validate_answers,
    validate_submission,
)
from app.responses.models import Answer, Respondent, Response
from app.responses.schemas import (
    AnswerIn,
    AnswerOut,
    OwnResponse,
    Receipt,
    RespondentIn,
    SubmissionIn,
)
from app.security import (
    check_response_secret,
    new_receipt_code,
    normalise_receipt_code,
    response_secret,
)
from app.users.models import User

# Question structure is frozen once a consultation leaves draft, so forms are cached per process.
_form_cache: dict[uuid.UUID, FormSpec] = {}
# slug -> (cached at, consultation id, form). Slugs are permanent, but entries expire so a
# consultation removed and re-created under the same slug is picked up by every process.
_intake_cache: dict[str, tuple[float, uuid.UUID, FormSpec]] = {}
INTAKE_CACHE_SECONDS = 30.0


def clear_caches() -> None:
    _form_cache.clear()
    _intake_cache.clear()


async def load_form(session: AsyncSession, consultation: Consultation) -> FormSpec:
    cached = _form_cache.get(consultation.id)
    if cached is not None:
        return cached
    rows = await session.scalars(
        select(Question)
        .join(Proposal)
        .where(Proposal.consultation_id == consultation.id)
        .order_by(Proposal.position, Question.position)
    )
    form = FormSpec(
        consultation_id=consultation.id,
        questions=tuple(
            QuestionSpec(q.id, q.number, q.text, q.kind, tuple(q.options), q.required, q.stance_map)
            for q in rows
        ),
    )
    if consultation.status != ConsultationStatus.draft:
        _form_cache[consultation.id] = form
    return form


async def open_consultation(session: AsyncSession, *, slug: str) -> Consultation:
    """The consultation, if it accepts responses now; 404 for drafts, 409 when closed."""
    consultation = await session.scalar(select(Consultation).where(Consultation.slug == slug))
    if consultation is None or consultation.status == ConsultationStatus.draft:
        raise NotFound(f"No consultation '{slug}'.")
    if not accepting_responses(consultation):
        raise ConsultationClosed(f"The consultation '{slug}' is not open for responses.")
    return consultation


def request_fingerprint(data: SubmissionIn) -> str:
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def make_receipt(slug: str, response: Response | _Stored) -> Receipt:
    secret = response_secret(response.receipt_code)
    return Receipt(
        receipt_code=response.receipt_code,
        secret=secret,
        view_url=f"/c/{slug}/receipt/{response.receipt_code}?secret={secret}",
        api_url=f"/api/v1/consultations/{slug}/responses/{response.receipt_code}",
        submitted_at=response.submitted_at,
        status=response.status,
    )


async def submit_form_fields(
    session: AsyncSession,
    *,
    slug: str,
    fields: dict[str, Any],
    max_answer_chars: int,
    idempotency_key: str | None,
) -> Receipt:
    """The web form's submission: problems with the respondent and with the answers are
    reported together, so a person fixes everything in one round."""
    try:
        data = SubmissionIn.model_validate(fields)
    except ValidationError as exc:
        problems = [field_error(list(e["loc"]), e["msg"], e["type"]) for e in exc.errors()]
        consultation = await open_consultation(session, slug=slug)
        form = await load_form(session, consultation)
        answers = [AnswerIn.model_validate(a) for a in fields["answers"]]
        try:
            validate_answers(form, answers, max_chars=max_answer_chars, earlier_problems=problems)
        except ValidationFailed as failed:
            problems = failed.fields
        raise ValidationFailed(
            "The response is not valid; nothing was stored.", fields=problems
        ) from None
    return await submit_response(
        session,
        slug=slug,
        data=data,
        channel=Channel.web,
        max_answer_chars=max_answer_chars,
        idempotency_key=idempotency_key,
    )


async def _existing_for_key(
    session: AsyncSession, consultation_id: uuid.UUID, key: str
) -> Response | None:
    return await session.scalar(
        select(Response).where(
            Response.consultation_id == consultation_id, Response.idempotency_key == key
        )
    )


def _replay(slug: str, existing: Response, fingerprint: str) -> Receipt:
    if existing.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    return make_receipt(slug, existing)


async def _intake_target(session: AsyncSession, slug: str) -> tuple[uuid.UUID, FormSpec]:
    """The consultation id and form for a slug (cached: slugs and open forms never change)."""
    cached = _intake_cache.get(slug)
    if cached is not None and time.monotonic() - cached[0] < INTAKE_CACHE_SECONDS:
        return cached[1], cached[2]
    consultation = await open_consultation(session, slug=slug)
    form = await load_form(session, consultation)
    _intake_cache[slug] = (time.monotonic(), consultation.id, form)
    return consultation.id, form


async def submit_response(
    session: AsyncSession,
    *,
    slug: str,
    data: SubmissionIn,
    channel: Channel,
    max_answer_chars: int,
    idempotency_key: str | None = None,
) -> Receipt:
    fingerprint = request_fingerprint(data)
    for attempt in range(2):
        consultation_id, form = await _intake_target(session, slug)
        if idempotency_key:
            existing = await _existing_for_key(session, consultation_id, idempotency_key)
            if existing is not None:
                return _replay(slug, existing, fingerprint)
        answers = validate_submission(
            form, data.respondent, data.answers, max_chars=max_answer_chars
        )
        store = (consultation_id, data.respondent, answers, channel, idempotency_key, fingerprint)
        receipt = await _store_once(session, slug, store, idempotency_key)
        if receipt is not None:
            return receipt
        # Not stored: the consultation closed, or the cached one was replaced. Look again.
        _intake_cache.pop(slug, None)
        if attempt == 0 and (await _intake_target(session, slug))[0] != consultation_id:
            continue
        raise ConsultationClosed(f"The consultation '{slug}' is not open for responses.")
    raise ConsultationClosed()


async def _store_once(
    session: AsyncSession, slug: str, store: tuple[Any, ...], idempotency_key: str | None
) -> Receipt | None:
    """The receipt, or None when the consultation was not open (nothing stored)."""
    try:
        if idempotency_key is None:
            response = await _store(session, *store)
        else:
            # A savepoint, so a lost race on the key leaves the transaction usable.
            async with session.begin_nested():
                response = await _store(session, *store)
    except (IntegrityError, psycopg.errors.IntegrityError):
        # A concurrent retry with the same key won the race: answer with its receipt.
        existing = (
            await _existing_for_key(session, store[0], idempotency_key) if idempotency_key else None
        )
        if existing is None:
            raise
        return _replay(slug, existing, store[5])
    return make_receipt(slug, response) if response is not None else None


# One round trip: the consultation is checked to be open and the respondent, response and
# answers are inserted in a single statement (data-modifying CTEs; foreign keys are checked
# at the end of the statement, when all rows exist). Nothing is inserted when it is not open.
# psycopg placeholders: it runs on the request's driver connection (see _store).
_STORE_RESPONSE = """
    WITH open_consultation AS (
        SELECT id FROM consultations
        WHERE id = %(consultation_id)s AND status = 'open'
          AND (opens_at IS NULL OR opens_at <= now())
          AND (closes_at IS NULL OR closes_at > now())
    ), new_respondent AS (
        INSERT INTO respondents (id, consultation_id, kind, name, organisation_name,
            organisation_type, region, email, publication_consent, channel, attributes)
        SELECT %(respondent_id)s, id, %(kind)s, %(name)s, %(organisation_name)s,
            %(organisation_type)s, %(region)s, %(email)s, %(publication_consent)s, %(channel)s,
            '{}'
        FROM open_consultation
    ), new_response AS (
        INSERT INTO responses (id, consultation_id, respondent_id, receipt_code, submitted_at,
            status, channel, idempotency_key, request_hash)
        SELECT %(response_id)s, id, %(respondent_id)s, %(receipt_code)s, %(submitted_at)s,
            'received', %(channel)s, %(idempotency_key)s, %(request_hash)s
        FROM open_consultation
        RETURNING id
    ), new_answers AS (
        INSERT INTO answers (id, response_id, question_id, text, redacted_text, options)
        SELECT gen_random_uuid(), r.id, a.question_id, a.text, a.redacted_text, a.options
        FROM new_response AS r,
            jsonb_to_recordset(CAST(%(answers)s AS jsonb))
                AS a(question_id uuid, text text, redacted_text text, options text[])
    )
    SELECT count(*) FROM new_response
"""


@dataclass(frozen=True, slots=True)
class _Stored:
    """What a receipt needs of a response just stored (no ORM object on the hot path)."""

    receipt_code: str
    submitted_at: datetime
    status: ResponseStatus


async def _store(
    session: AsyncSession,
    consultation_id: uuid.UUID,
    respondent: RespondentIn,
    answers: list[CleanAnswer],
    channel: Channel,
    idempotency_key: str | None,
    fingerprint: str,
) -> _Stored | None:
    """The stored response, or None when the consultation was not open (nothing stored)."""
    names = [respondent.name] if respondent.name else []
    stored = _Stored(new_receipt_code(), datetime.now(UTC), ResponseStatus.received)
    answer_rows = [
        {
            "question_id": str(a.question_id),
            "text": a.text,
            "redacted_text": redact(a.text, names=names).text if a.text else None,
            "options": list(a.options),
        }
        for a in answers
    ]
    # The session's own connection and transaction, driven through psycopg directly: this
    # hot path needs none of SQLAlchemy's statement machinery (psycopg prepares the
    # statement on each connection after a few uses).
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    cursor = await driver.execute(
        _STORE_RESPONSE,
        {
            "respondent_id": uuid.uuid4(),
            "consultation_id": consultation_id,
            "kind": respondent.kind.value,
            "name": respondent.name,
            "organisation_name": respondent.organisation_name,
            "organisation_type": respondent.organisation_type,
            "region": respondent.region,
            "email": str(respondent.email) if respondent.email else None,
            "publication_consent": respondent.publication_consent.value,
            "channel": channel.value,
            "response_id": uuid.uuid4(),
            "receipt_code": stored.receipt_code,
            "submitted_at": stored.submitted_at,
            "idempotency_key": idempotency_key,
            "request_hash": fingerprint,
            "answers": json.dumps(answer_rows),
        },
    )
    row = await cursor.fetchone()
    return stored if row and row[0] else None


async def _own_response(
    session: AsyncSession, slug: str, receipt_code: str, secret: str
) -> tuple[Response, Respondent]:
    code = normalise_receipt_code(receipt_code)
    row = (
        await session.execute(
            select(Response, Respondent)
            .join(Respondent, Respondent.id == Response.respondent_id)
            .join(Consultation, Consultation.id == Response.consultation_id)
            .where(Response.receipt_code == code, Consultation.slug == slug)
        )
    ).first()
    # The same 404 for a wrong code and a wrong secret: nothing to probe.
    if row is None or not check_response_secret(code, secret):
        raise NotFound("No response with this receipt code and secret.")
    return row[0], row[1]


async def view_own_response(
    session: AsyncSession, *, slug: str, receipt_code: str, secret: str
) -> OwnResponse:
    response, respondent = await _own_response(session, slug, receipt_code, secret)
    rows = await session.execute(
        select(Answer, Question)
        .join(Question, Question.id == Answer.question_id)
        .join(Proposal, Proposal.id == Question.proposal_id)
        .where(Answer.response_id == response.id)
        .order_by(Proposal.position, Question.position)
    )
    return OwnResponse(
        receipt_code=response.receipt_code,
        consultation_slug=slug,
        submitted_at=response.submitted_at,
        status=response.status,
        status_changed_at=response.status_changed_at,
        respondent_kind=respondent.kind,
        organisation_name=respondent.organisation_name,
        publication_consent=respondent.publication_consent,
        answers=[
            AnswerOut(
                question_id=q.id,
                question_number=q.number,
                question_text=q.text,
                text=a.text,
                options=list(a.options),
            )
            for a, q in rows
        ],
    )


async def withdraw_own_response(
    session: AsyncSession, *, slug: str, receipt_code: str, secret: str
) -> OwnResponse:
    """Marks the response withdrawn (kept, with the time): counts and the audit trail stay true."""
    response, _ = await _own_response(session, slug, receipt_code, secret)
    if response.status != ResponseStatus.withdrawn:
        before = {"status": response.status.value, "status_reason": response.status_reason}
        await session.execute(
            update(Response)
            .where(Response.id == response.id)
            .values(
                status=ResponseStatus.withdrawn,
                status_reason="withdrawn by the respondent",
                status_changed_at=datetime.now(UTC),
            )
        )
        await record_event(
            session,
            action="response.withdrawn",
            entity_type="response",
            entity_id=response.id,
            before=before,
            after={"status": "withdrawn", "status_reason": "withdrawn by the respondent"},
            actor=Actor.respondent(response.respondent_id),
            consultation_id=response.consultation_id,
        )
    session.expire(response)
    return await view_own_response(session, slug=slug, receipt_code=receipt_code, secret=secret)


# Exclusion by analysts (logged): the response stays, analysis and reports leave it out.


@dataclass(frozen=True)
class ResponseStatusChange:
    id: uuid.UUID
    status: ResponseStatus
    status_reason: str | None
    status_changed_at: datetime | None


async def _response_for_analyst(
    session: AsyncSession, *, response_id: uuid.UUID, user: User
) -> Response:
    response = await session.scalar(
        select(Response).where(Response.id == response_id).with_for_update()
    )
    if response is None:
        raise NotFound("No such response.")
    consultation = await session.get(Consultation, response.consultation_id)
    assert consultation is not None  # a foreign key
    await require_access(
        session,
        consultation=consultation,
        user=user,
        roles=(Role.analyst,),
        action="exclude responses",
        missing="No such response.",
    )
    return response


def _status(response: Response) -> dict[str, Any]:
    return {"status": response.status.value, "status_reason": response.status_reason}


def _change(response: Response) -> ResponseStatusChange:
    return ResponseStatusChange(
        id=response.id,
        status=response.status,
        status_reason=response.status_reason,
        status_changed_at=response.status_changed_at,
    )


async def _set_status(
    session: AsyncSession,
    response: Response,
    *,
    status: ResponseStatus,
    reason: str | None,
    action: str,
    user: User,
) -> None:
    before = _status(response)
    response.status = status
    response.status_reason = reason
    response.status_changed_at = datetime.now(UTC)
    await session.flush()
    await record_event(
        session,
        action=action,
        entity_type="response",
        entity_id=response.id,
        before=before,
        after=_status(response),
        actor=Actor.for_user(user),
        consultation_id=response.consultation_id,
    )


class ResponseWithdrawn(Conflict):
    code = "response_withdrawn"
    message = "The respondent withdrew this response; it cannot be excluded or included."


async def exclude_response(
    session: AsyncSession, *, response_id: uuid.UUID, reason: str, user: User
) -> ResponseStatusChange:
    """Marks a response excluded from analysis, with the reason (logged)."""
    response = await _response_for_analyst(session, response_id=response_id, user=user)
    if response.status == ResponseStatus.withdrawn:
        raise ResponseWithdrawn()
    if response.status != ResponseStatus.excluded or response.status_reason != reason:
        await _set_status(
            session,
            response,
            status=ResponseStatus.excluded,
            reason=reason,
            action="response.excluded",
            user=user,
        )
    return _change(response)


async def include_response(
    session: AsyncSession, *, response_id: uuid.UUID, user: User
) -> ResponseStatusChange:
    """Undoes an exclusion (logged); a response that is already included is left as it is."""
    response = await _response_for_analyst(session, response_id=response_id, user=user)
    if response.status == ResponseStatus.withdrawn:
        raise ResponseWithdrawn()
    if response.status == ResponseStatus.excluded:
        await _set_status(
            session,
            response,
            status=ResponseStatus.received,
            reason=None,
            action="response.included",
            user=user,
        )
    return _change(response)

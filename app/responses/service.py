"""Storing responses (API, web form), the respondent's receipt, viewing and withdrawing."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from analysis.redaction import redact
from app.consultations.models import Consultation, Proposal, Question
from app.consultations.service import accepting_responses
from app.enums import Channel, ConsultationStatus, ResponseStatus
from app.errors import ConsultationClosed, IdempotencyKeyReused, NotFound
from app.responses.intake import CleanAnswer, FormSpec, QuestionSpec, validate_answers
from app.responses.models import Answer, Respondent, Response
from app.responses.schemas import AnswerOut, OwnResponse, Receipt, RespondentIn, SubmissionIn
from app.security import check_response_secret, new_receipt_code, normalise_receipt_code, response_secret

# Question structure is frozen once a consultation leaves draft, so forms are cached per process.
_form_cache: dict[uuid.UUID, FormSpec] = {}


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


def make_receipt(slug: str, response: Response) -> Receipt:
    secret = response_secret(response.receipt_code)
    return Receipt(
        receipt_code=response.receipt_code,
        secret=secret,
        view_url=f"/c/{slug}/receipt/{response.receipt_code}?secret={secret}",
        api_url=f"/api/v1/consultations/{slug}/responses/{response.receipt_code}",
        submitted_at=response.submitted_at,
        status=response.status,
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


async def submit_response(
    session: AsyncSession,
    *,
    slug: str,
    data: SubmissionIn,
    channel: Channel,
    max_answer_chars: int,
    idempotency_key: str | None = None,
) -> Receipt:
    consultation = await open_consultation(session, slug=slug)
    fingerprint = request_fingerprint(data)
    if idempotency_key:
        existing = await _existing_for_key(session, consultation.id, idempotency_key)
        if existing is not None:
            return _replay(slug, existing, fingerprint)
    form = await load_form(session, consultation)
    answers = validate_answers(form, data.answers, max_chars=max_answer_chars)
    try:
        async with session.begin_nested():
            response = await _store(
                session, consultation.id, data.respondent, answers, channel, idempotency_key, fingerprint
            )
    except IntegrityError:
        # A concurrent retry with the same key won the race: answer with its receipt.
        if idempotency_key is None:
            raise
        existing = await _existing_for_key(session, consultation.id, idempotency_key)
        if existing is None:
            raise
        return _replay(slug, existing, fingerprint)
    return make_receipt(slug, response)


async def _store(
    session: AsyncSession,
    consultation_id: uuid.UUID,
    respondent: RespondentIn,
    answers: list[CleanAnswer],
    channel: Channel,
    idempotency_key: str | None,
    fingerprint: str,
) -> Response:
    respondent_id, response_id = uuid.uuid4(), uuid.uuid4()
    names = [respondent.name] if respondent.name else []
    await session.execute(
        insert(Respondent).values(
            id=respondent_id,
            consultation_id=consultation_id,
            kind=respondent.kind,
            name=respondent.name,
            organisation_name=respondent.organisation_name,
            organisation_type=respondent.organisation_type,
            region=respondent.region,
            email=str(respondent.email) if respondent.email else None,
            publication_consent=respondent.publication_consent,
            channel=channel,
            attributes={},
        )
    )
    response = Response(
        id=response_id,
        consultation_id=consultation_id,
        respondent_id=respondent_id,
        receipt_code=new_receipt_code(),
        submitted_at=datetime.now(UTC),
        status=ResponseStatus.received,
        channel=channel,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
    )
    await session.execute(
        insert(Response).values(
            {c: getattr(response, c) for c in (
                "id", "consultation_id", "respondent_id", "receipt_code", "submitted_at",
                "status", "channel", "idempotency_key", "request_hash",
            )}
        )
    )
    await session.execute(
        insert(Answer),
        [
            {
                "id": uuid.uuid4(),
                "response_id": response_id,
                "question_id": a.question_id,
                "text": a.text,
                "redacted_text": redact(a.text, names=names).text if a.text else None,
                "options": list(a.options),
            }
            for a in answers
        ],
    )
    return response


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
    """Marks the response withdrawn (kept, with the time) so counts and the audit trail stay true."""
    response, _ = await _own_response(session, slug, receipt_code, secret)
    if response.status != ResponseStatus.withdrawn:
        await session.execute(
            update(Response)
            .where(Response.id == response.id)
            .values(
                status=ResponseStatus.withdrawn,
                status_reason="withdrawn by the respondent",
                status_changed_at=datetime.now(UTC),
            )
        )
        await session.flush()
    session.expire(response)
    return await view_own_response(session, slug=slug, receipt_code=receipt_code, secret=secret)

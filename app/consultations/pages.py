"""Public pages: the list of consultations, a consultation's response form and the receipt."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData

from app.config import get_settings
from app.consultations import service
from app.consultations.schemas import ConsultationDetail
from app.db import SessionDep
from app.enums import PublicationConsent, QuestionKind, RespondentKind
from app.errors import ValidationFailed
from app.responses import service as responses_service
from app.users.dependencies import OptionalUser
from app.web import render, verify_csrf

router = APIRouter(include_in_schema=False)

REGIONS = (
    "North East",
    "North West",
    "Yorkshire and the Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
    "Scotland",
    "Wales",
    "Northern Ireland",
    "Outside the UK",
)
KIND_LABELS = {
    RespondentKind.individual.value: "As an individual",
    RespondentKind.organisation.value: "On behalf of an organisation",
}
CONSENT_LABELS = {
    PublicationConsent.publish.value: "Yes, publish my response with my name or organisation",
    PublicationConsent.publish_anonymously.value: "Yes, but publish it anonymously",
    PublicationConsent.do_not_publish.value: "No, do not publish my response",
}


# GOV.UK-style messages for the respondent fields (the API's own messages are technical).
FRIENDLY_MESSAGES = {
    "kind": "Select whether you are responding as an individual or for an organisation",
    "publication_consent": "Select whether we may publish your response",
    "email": "Enter an email address in the correct format, like name@example.com",
    "organisation_name": "Enter the name of the organisation you are responding for",
}


def question_field(question_id: uuid.UUID | str) -> str:
    return f"q-{question_id}"


def submission_from_form(form: FormData, detail: ConsultationDetail) -> dict[str, Any]:
    """The API's submission body, built from the posted form fields."""
    answers: list[dict[str, Any]] = []
    for proposal in detail.proposals:
        for q in proposal.questions:
            field = question_field(q.id)
            if q.kind == QuestionKind.open_text:
                answers.append({"question_id": str(q.id), "text": str(form.get(field) or "")})
            else:
                answers.append(
                    {"question_id": str(q.id), "options": [str(v) for v in form.getlist(field)]}
                )
    respondent = {
        key: (str(form.get(key)).strip() or None) if form.get(key) is not None else None
        for key in ("kind", "name", "organisation_name", "email", "region", "publication_consent")
    }
    return {"respondent": respondent, "answers": answers}


def form_errors(fields: list[dict[str, Any]], detail: ConsultationDetail) -> list[dict[str, str]]:
    """API error locations as GOV.UK error-summary entries pointing at the form's fields."""
    question_ids = [q.id for p in detail.proposals for q in p.questions]
    errors: list[dict[str, str]] = []
    for item in fields:
        loc = [str(part) for part in item["loc"]]
        if loc[:1] == ["respondent"]:
            field_id = loc[1] if len(loc) > 1 else "kind"
        elif loc[:1] == ["answers"] and len(loc) > 1:
            target = loc[1]
            field_id = question_field(question_ids[int(target)] if target.isdigit() else target)
        else:
            field_id = "kind"
        message = FRIENDLY_MESSAGES.get(field_id) if loc[:1] == ["respondent"] else None
        errors.append({"field_id": field_id, "message": message or str(item["message"])})
    return errors


def _form_page(
    request: Request,
    detail: ConsultationDetail,
    *,
    values: dict[str, Any],
    errors: list[dict[str, str]],
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "consultations/respond.html",
        {
            "consultation": detail,
            "values": values,
            "errors": errors,
            "error_by_field": {e["field_id"]: e["message"] for e in reversed(errors)},
            "question_field": question_field,
            "regions": REGIONS,
            "kind_labels": KIND_LABELS,
            "consent_labels": CONSENT_LABELS,
            "idempotency_key": values.get("idempotency_key") or str(uuid.uuid4()),
            "max_chars": get_settings().max_answer_chars,
        },
        status_code=status,
    )


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, session: SessionDep, user: OptionalUser) -> HTMLResponse:
    consultations = await service.list_consultations(session, user=user)
    return render(
        request, "consultations/index.html", {"consultations": consultations, "current_user": user}
    )


@router.get("/c/{slug}", response_class=HTMLResponse)
async def consultation_page(
    slug: str, request: Request, session: SessionDep, user: OptionalUser
) -> HTMLResponse:
    detail = await service.get_detail(session, slug=slug, user=user)
    return _form_page(request, detail, values={}, errors=[])


@router.post("/c/{slug}", response_class=HTMLResponse)
async def submit_form(slug: str, request: Request, session: SessionDep, user: OptionalUser) -> Any:
    form = await request.form()
    verify_csrf(request, str(form.get("csrf_token") or ""))
    detail = await service.get_detail(session, slug=slug, user=user)
    values = {key: form.getlist(key) if key.startswith("q-") else form.get(key) for key in form}
    try:
        receipt = await responses_service.submit_form_fields(
            session,
            slug=slug,
            fields=submission_from_form(form, detail),
            max_answer_chars=get_settings().max_answer_chars,
            idempotency_key=str(form.get("idempotency_key") or "") or None,
        )
    except ValidationFailed as exc:
        return _form_page(
            request, detail, values=values, errors=form_errors(exc.fields, detail), status=422
        )
    # `new` only changes the heading of this first view; the link to keep is view_url.
    return RedirectResponse(receipt.view_url + "&new=1", status_code=303)


@router.get("/c/{slug}/receipt/{receipt_code}", response_class=HTMLResponse)
async def receipt_page(
    slug: str, receipt_code: str, secret: str, request: Request, session: SessionDep
) -> HTMLResponse:
    own = await responses_service.view_own_response(
        session, slug=slug, receipt_code=receipt_code, secret=secret
    )
    return render(
        request,
        "consultations/receipt.html",
        {
            "response": own,
            "secret": secret,
            "new": request.query_params.get("new") == "1",
            "consent_labels": CONSENT_LABELS,
        },
    )


@router.post("/c/{slug}/receipt/{receipt_code}/withdraw", response_class=HTMLResponse)
async def withdraw(slug: str, receipt_code: str, request: Request, session: SessionDep) -> Any:
    form = await request.form()
    verify_csrf(request, str(form.get("csrf_token") or ""))
    secret = str(form.get("secret") or "")
    own = await responses_service.withdraw_own_response(
        session, slug=slug, receipt_code=receipt_code, secret=secret
    )
    return RedirectResponse(
        f"/c/{slug}/receipt/{own.receipt_code}?secret={secret}", status_code=303
    )

"""Reviewer pages under /audit: my samples, drawing a sample, the blind coding form, the
comparison after submitting, and the agreement dashboard. Plain HTML forms (no JavaScript).

Analysts and reviewers who are members (and admins) can draw samples here too: the design
lets the advisory group draw its own reproducible sample rather than only be given one.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError as PydanticValidationError

from app.db import SessionDep
from app.enums import Role, Stance
from app.errors import Conflict, ValidationFailed
from app.samples import service
from app.samples.schemas import ReviewIn, SampleCreate
from app.users.dependencies import OptionalUser
from app.users.models import User
from app.web import render, verify_csrf

router = APIRouter(include_in_schema=False)

DASH = "\N{EN DASH}"  # an undefined or missing figure

STANCES = [
    {"value": "", "text": "Do not record a stance"},
    *({"value": s.value, "text": s.value.capitalize()} for s in Stance),
]


def _sign_in(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def estimate_text(est: dict[str, Any] | None, digits: int = 2, percent: bool = False) -> str:
    """'0.62 (0.41 to 0.80)': a point estimate and its 95% interval, or a dash."""
    if not est or est.get("value") is None:
        return DASH
    scale = 100.0 if percent else 1.0
    unit = "%" if percent else ""
    d = 0 if percent else digits
    value = f"{est['value'] * scale:.{d}f}{unit}"
    if est.get("low") is None or est.get("high") is None:
        return value
    return f"{value} ({est['low'] * scale:.{d}f}{unit} to {est['high'] * scale:.{d}f}{unit})"


def bar(est: dict[str, Any] | None) -> dict[str, Any] | None:
    """Positions (0-100 %) on a -1..1 scale for the chart: bar from 0, whisker low..high."""
    if not est or est.get("value") is None:
        return None

    def pos(x: float) -> float:
        return round((max(-1.0, min(1.0, x)) + 1.0) * 50.0, 2)

    value = float(est["value"])
    low = float(est["low"]) if est.get("low") is not None else value
    high = float(est["high"]) if est.get("high") is not None else value
    return {
        "start": min(pos(0.0), pos(value)),
        "width": abs(pos(value) - pos(0.0)),
        "low": pos(low),
        "high": pos(high),
        "value": pos(value),
    }


# --------------------------------------------------------------------------------------
# My samples
# --------------------------------------------------------------------------------------


@router.get("/audit", response_class=HTMLResponse)
@router.get("/audit/", response_class=HTMLResponse)
async def index(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    if user is None:
        return _sign_in(request)
    samples = await service.my_samples(session, user=user)
    proposals = await service.auditable_proposals(session, user=user)
    return render(
        request,
        "samples/index.html",
        {"current_user": user, "samples": samples, "proposals": proposals},
    )


# --------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------


async def _new_page(
    request: Request,
    session: SessionDep,
    user: User,
    proposal_id: uuid.UUID,
    values: dict[str, str],
    errors: list[dict[str, str]],
    status_code: int = 200,
) -> HTMLResponse:
    info = await service.proposal_summary(session, proposal_id=proposal_id, user=user)
    return render(
        request,
        "samples/new.html",
        {
            "current_user": user,
            "proposal": info,
            "values": values,
            "errors": errors,
        },
        status_code=status_code,
    )


@router.get("/audit/proposals/{proposal_id}/samples/new", response_class=HTMLResponse)
async def new_sample_page(
    proposal_id: uuid.UUID, request: Request, session: SessionDep, user: OptionalUser
) -> Response:
    if user is None:
        return _sign_in(request)
    values = {"design": "simple", "by": "size", "size": "", "margin": "0.05", "seed": ""}
    return await _new_page(request, session, user, proposal_id, values, [])


def _sample_body(values: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {"design": values.get("design") or "simple"}
    if body["design"] == "stratified":
        body["stratify_by"] = values.get("stratify_by") or None
    if values.get("by") == "margin":
        body["margin"] = values.get("margin") or None
        body["confidence"] = values.get("confidence") or 0.95
    else:
        body["size"] = values.get("size") or None
    if values.get("seed"):
        body["seed"] = values["seed"]
    return body


FIELD_IDS = {"size": "size", "margin": "margin", "seed": "seed", "stratify_by": "stratify_by"}


@router.post("/audit/proposals/{proposal_id}/samples/new", response_class=HTMLResponse)
async def draw_sample(
    proposal_id: uuid.UUID, request: Request, session: SessionDep, user: OptionalUser
) -> Response:
    if user is None:
        return _sign_in(request)
    form = await request.form()
    verify_csrf(request, str(form.get("csrf_token") or ""))
    values = {k: str(form.get(k) or "").strip() for k in FIELD_IDS | {"design": 0, "by": 0}}
    values["confidence"] = str(form.get("confidence") or "0.95")
    errors: list[dict[str, str]] = []
    try:
        data = SampleCreate.model_validate(_sample_body(values))
    except PydanticValidationError as exc:
        for e in exc.errors():
            loc = [str(p) for p in e["loc"]]
            field_id = FIELD_IDS.get(loc[0], "size") if loc else "size"
            message = str(e["msg"]).removeprefix("Value error, ")
            errors.append({"field_id": field_id, "message": message.capitalize()})
    else:
        try:
            sample = await service.draw_sample(
                session, proposal_id=proposal_id, user=user, data=data
            )
        except (ValidationFailed, Conflict) as exc:
            errors.append({"field_id": "size", "message": exc.message})
        else:
            return RedirectResponse(f"/audit/samples/{sample.id}?drawn=1", status_code=303)
    return await _new_page(request, session, user, proposal_id, values, errors, 422)


# --------------------------------------------------------------------------------------
# A sample
# --------------------------------------------------------------------------------------


@router.get("/audit/samples/{sample_id}", response_class=HTMLResponse)
async def sample_page(
    sample_id: uuid.UUID, request: Request, session: SessionDep, user: OptionalUser
) -> Response:
    if user is None:
        return _sign_in(request)
    sample = await service.get_sample(session, sample_id=sample_id, user=user)
    items = await service.list_items(session, sample_id=sample_id, user=user)
    return render(
        request,
        "samples/sample.html",
        {
            "current_user": user,
            "sample": sample,
            "items": items,
            "is_reviewer": user.role == Role.reviewer,
            "drawn": request.query_params.get("drawn") == "1",
        },
    )


@router.get("/audit/samples/{sample_id}/next")
async def next_page(
    sample_id: uuid.UUID, request: Request, session: SessionDep, user: OptionalUser
) -> Response:
    if user is None:
        return _sign_in(request)
    view = await service.next_item(session, sample_id=sample_id, user=user)
    if view is None:
        return RedirectResponse(f"/audit/samples/{sample_id}?done=1", status_code=303)
    return RedirectResponse(f"/audit/samples/{sample_id}/items/{view.id}", status_code=303)


async def _item_page(
    request: Request,
    session: SessionDep,
    user: User,
    sample_id: uuid.UUID,
    item_id: uuid.UUID,
    errors: list[dict[str, str]] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    view = await service.get_item(session, sample_id=sample_id, item_id=item_id, user=user)
    sample = await service.get_sample(session, sample_id=sample_id, user=user)
    links = await service.challenge_target(session, sample_id=sample_id, item_id=item_id, user=user)
    return render(
        request,
        "samples/item.html",
        {
            "current_user": user,
            "view": view,
            "sample": sample,
            "is_reviewer": user.role == Role.reviewer,
            "stances": STANCES,
            "errors": errors or [],
            "values": values or {"themes": [], "stance": ""},
            "challenge": links if not view.blind else None,
            "just_submitted": request.query_params.get("submitted") == "1",
        },
        status_code=status_code,
    )


@router.get("/audit/samples/{sample_id}/items/{item_id}", response_class=HTMLResponse)
async def item_page(
    sample_id: uuid.UUID,
    item_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    user: OptionalUser,
) -> Response:
    if user is None:
        return _sign_in(request)
    return await _item_page(request, session, user, sample_id, item_id)


@router.post("/audit/samples/{sample_id}/items/{item_id}", response_class=HTMLResponse)
async def submit_review(
    sample_id: uuid.UUID,
    item_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    user: OptionalUser,
) -> Response:
    if user is None:
        return _sign_in(request)
    form = await request.form()
    verify_csrf(request, str(form.get("csrf_token") or ""))
    themes = [str(t) for t in form.getlist("themes")]
    stance = str(form.get("stance") or "")
    values = {"themes": themes, "stance": stance}
    try:
        data = ReviewIn.model_validate({"themes": themes, "stance": stance or None})
        await service.submit_review(
            session, sample_id=sample_id, item_id=item_id, user=user, data=data
        )
    except PydanticValidationError:
        errors = [{"field_id": "stance", "message": "Choose a stance from the list."}]
        return await _item_page(request, session, user, sample_id, item_id, errors, values, 422)
    except (ValidationFailed, Conflict) as exc:
        errors = [{"field_id": "themes", "message": exc.message}]
        return await _item_page(request, session, user, sample_id, item_id, errors, values, 422)
    return RedirectResponse(
        f"/audit/samples/{sample_id}/items/{item_id}?submitted=1", status_code=303
    )


# --------------------------------------------------------------------------------------
# Agreement dashboard
# --------------------------------------------------------------------------------------


def _theme_rows(
    report: dict[str, Any] | None, labels: dict[str, str], kappa: str
) -> list[dict[str, Any]]:
    if not report:
        return []
    rows = []
    for code in report["themes"]:
        stats = report["per_theme"][code]
        rows.append(
            {
                "code": code,
                "label": labels.get(code, code),
                "prevalence": estimate_text(stats["prevalence"], percent=True),
                "percent": estimate_text(stats["percent_agreement"], percent=True),
                "kappa": estimate_text(stats[kappa]),
                "alpha": estimate_text(stats["krippendorff_alpha"]),
                "fleiss": estimate_text(stats["fleiss_kappa"]),
                "bar": bar(stats[kappa]),
                "n": stats["n_answers"],
            }
        )
    overall = report["overall"]
    rows.append(
        {
            "code": "Overall",
            "label": "All themes pooled",
            "prevalence": estimate_text(overall["prevalence"], percent=True),
            "percent": estimate_text(overall["percent_agreement"], percent=True),
            "kappa": estimate_text(overall[kappa]),
            "alpha": estimate_text(overall["krippendorff_alpha"]),
            "fleiss": estimate_text(overall["fleiss_kappa"]),
            "bar": bar(overall[kappa]),
            "n": overall["n_answers"],
            "overall": True,
        }
    )
    return rows


@router.get("/audit/samples/{sample_id}/agreement", response_class=HTMLResponse)
async def agreement_page(
    sample_id: uuid.UUID, request: Request, session: SessionDep, user: OptionalUser
) -> Response:
    if user is None:
        return _sign_in(request)
    view = await service.agreement_view(session, sample_id=sample_id, user=user)
    sample, report, labels = view.sample, view.report, view.labels
    main = report.reviewers_and_current
    two = bool(main and len(main["coders"]) == 2)
    kappa_key = "cohen_kappa" if two else "fleiss_kappa"
    kappa_name = "Cohen's kappa" if two else "Fleiss' kappa"
    rows = _theme_rows(main, labels, kappa_key)
    among_two = bool(report.among_reviewers and len(report.among_reviewers["coders"]) == 2)
    among_rows = _theme_rows(
        report.among_reviewers, labels, "cohen_kappa" if among_two else "fleiss_kappa"
    )
    prf_rows = []
    if report.current_vs_reviewers:
        per_label = report.current_vs_reviewers["per_label"]
        for code in report.themes:
            m = per_label[code]
            prf_rows.append(
                [
                    f"{code} {labels.get(code, '')}",
                    estimate_text(m["precision"]),
                    estimate_text(m["recall"]),
                    estimate_text(m["f1"]),
                    estimate_text(m["prevalence"], percent=True),
                ]
            )
        for avg in ("micro", "macro", "samples"):
            m = report.current_vs_reviewers[avg]
            prf_rows.append(
                [
                    f"{avg.capitalize()} average",
                    estimate_text(m["precision"]),
                    estimate_text(m["recall"]),
                    estimate_text(m["f1"]),
                    "",
                ]
            )
    error = report.error_rate
    strata_rows = [
        [
            h,
            s["population"],
            s["n"],
            s["errors"],
            estimate_text(s["rate"], percent=True),
        ]
        for h, s in sorted(error.get("per_stratum", {}).items())
    ]
    overall_rows = main["overall"] if main else None
    summary = None
    if overall_rows is not None:
        summary = (
            f"{kappa_name} between the reviewers and the current codes over all themes: "
            f"{estimate_text(overall_rows[kappa_key])} (95% confidence interval), "
            f"on {overall_rows['n_answers']} answers."
        )
    return render(
        request,
        "samples/agreement.html",
        {
            "current_user": user,
            "sample": sample,
            "report": report,
            "rows": rows,
            "kappa_name": kappa_name,
            "summary": summary,
            "among_rows": among_rows,
            "among_kappa": "Cohen's kappa" if among_two else "Fleiss' kappa",
            "prf_rows": prf_rows,
            "per_reviewer": [
                [
                    r["reviewer"],
                    r["items"],
                    estimate_text(r["agreement"]["overall"]["cohen_kappa"]),
                    estimate_text(r["micro"]["f1"]),
                ]
                for r in report.per_reviewer
            ],
            "strata_rows": strata_rows,
            "error_overall": estimate_text(error.get("overall"), percent=True),
            "error_unweighted": estimate_text(error.get("unweighted"), percent=True),
            "stance": {
                "n": report.stance["n"],
                "percent": estimate_text(report.stance["percent_agreement"], percent=True),
                "kappa": estimate_text(report.stance["cohen_kappa"]),
            }
            if report.stance
            else None,
        },
    )

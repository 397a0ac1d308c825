"""Analyst pages: the analyst home, a proposal's theme overview and the answer browser.

Plain GET forms and links: everything works without JavaScript. The chart is server-rendered
SVG whose bars carry their numbers as text, with the same figures in the table beside it.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app.db import SessionDep
from app.errors import ValidationFailed, field_error
from app.themes import service
from app.themes.schemas import CampaignMode, Filters, ThemeCountOut
from app.users.dependencies import OptionalUser
from app.web import render

router = APIRouter(include_in_schema=False)

FILTER_KEYS = ("respondent_kind", "region", "stance", "campaign")
STANCE_LABELS = {
    "support": "Support",
    "oppose": "Oppose",
    "mixed": "Mixed",
    "neutral": "Neutral",
    "unclear": "Unclear",
    "none": "No stance recorded",
}
KIND_LABELS = {"individual": "Individuals", "organisation": "Organisations"}
CAMPAIGN_LABELS = {
    "include": "Include campaign responses",
    "exclude": "Exclude campaign responses",
    "separate": "Show campaign responses separately",
}

BROWSER_CAMPAIGN_LABELS = {
    "include": "Include campaign responses",
    "exclude": "Exclude campaign responses",
    "only": "Only campaign responses",
}


def _sign_in(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)


def _filters(request: Request, *, allowed_campaign: tuple[str, ...]) -> Filters:
    raw = {k: request.query_params.get(k, "").strip() for k in FILTER_KEYS}
    given = {k: v for k, v in raw.items() if v}
    if given.get("campaign") and given["campaign"] not in allowed_campaign:
        raise ValidationFailed(fields=[field_error(["campaign"], "Choose a listed option.")])
    try:
        return Filters.model_validate(given)
    except ValidationError as exc:
        raise ValidationFailed(
            fields=[field_error([str(p) for p in e["loc"]], e["msg"]) for e in exc.errors()]
        ) from None


def _int(request: Request, key: str) -> int | None:
    value = request.query_params.get(key, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValidationFailed(fields=[field_error([key], "Enter a whole number.")])
    return int(value)


def _uuid(request: Request, key: str) -> uuid.UUID | None:
    value = request.query_params.get(key, "").strip()
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailed(fields=[field_error([key], "Not a valid cursor.")]) from None


def _choices(values: dict[str, str], first: str | None = "Any") -> list[dict[str, str]]:
    head = [{"value": "", "text": first}] if first is not None else []
    return head + [{"value": k, "text": v} for k, v in values.items()]


def form_options(options: service.FilterOptions, campaign: dict[str, str]) -> dict[str, Any]:
    """The filter form's select options (value, text)."""
    return {
        "kinds": _choices(KIND_LABELS),
        "regions": _choices({r: r for r in options.regions}),
        "stances": _choices(STANCE_LABELS),
        "campaigns": _choices(campaign, first=None),
        "versions": _choices(
            {str(v): f"Version {v} ({status.value})" for v, status in options.versions},
            first="The published version",
        ),
        "themes": _choices(
            {code: f"{code} {label}" for code, label in options.themes}, first="Any (all answers)"
        ),
    }


def query_string(filters: Filters, **extra: Any) -> str:
    """The filters (and extra parameters) as a query string, leaving out defaults."""
    values: dict[str, Any] = {
        "respondent_kind": filters.respondent_kind.value if filters.respondent_kind else None,
        "region": filters.region,
        "stance": filters.stance.value if filters.stance else None,
        "campaign": filters.campaign.value if filters.campaign != CampaignMode.include else None,
        **extra,
    }
    return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def chart(themes: list[ThemeCountOut], n: int) -> dict[str, Any]:
    """Geometry of a horizontal bar chart (counts, largest first) for the SVG template."""
    rows = sorted(themes, key=lambda t: -t.count)
    top = max((t.count for t in rows), default=0) or 1
    bar_width, row_height = 260, 46
    bars = []
    for i, theme in enumerate(rows):
        share = f"{theme.share:.1%}" if theme.share is not None else "no answers"
        bars.append(
            {
                "code": theme.code,
                "label": theme.label,
                "count": theme.count,
                "share": share,
                "y": i * row_height,
                "width": round(theme.count / top * bar_width, 1),
                "text": f"{theme.code} {theme.label}: {theme.count} of {n} answers ({share})",
            }
        )
    return {"bars": bars, "height": max(1, len(rows)) * row_height, "bar_width": bar_width}


@router.get("/analyse", response_class=HTMLResponse)
@router.get("/analyse/", response_class=HTMLResponse)
async def analyst_home(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    if user is None:
        return _sign_in(request)
    consultations = await service.analysable(session, user=user)
    return render(
        request,
        "themes/home.html",
        {"current_user": user, "consultations": consultations},
    )


@router.get("/analyse/proposals/{proposal_id}", response_class=HTMLResponse)
async def proposal_overview(
    request: Request, proposal_id: uuid.UUID, session: SessionDep, user: OptionalUser
) -> Response:
    if user is None:
        return _sign_in(request)
    filters = _filters(request, allowed_campaign=("include", "exclude", "separate"))
    version = _int(request, "version")
    overview = await service.overview(
        session, proposal_id=proposal_id, user=user, filters=filters, version=version
    )
    summary = overview.summary
    return render(
        request,
        "themes/overview.html",
        {
            "current_user": user,
            "o": overview,
            "summary": summary,
            "filters": filters,
            "version": version,
            "chart": chart(summary.themes, summary.n) if summary else None,
            "rows": sorted(summary.themes, key=lambda t: -t.count) if summary else [],
            # A theme's answers under the same filters (separate: the main, non-campaign column).
            "link_filters": filters.model_copy(update={"campaign": CampaignMode.exclude})
            if filters.campaign == CampaignMode.separate
            else filters,
            "query_string": query_string,
            "form": form_options(overview.options, CAMPAIGN_LABELS),
        },
    )


@router.get("/analyse/proposals/{proposal_id}/answers", response_class=HTMLResponse)
async def answer_browser(
    request: Request, proposal_id: uuid.UUID, session: SessionDep, user: OptionalUser
) -> Response:
    if user is None:
        return _sign_in(request)
    filters = _filters(request, allowed_campaign=("include", "exclude", "only"))
    code = request.query_params.get("theme", "").strip() or None
    q = request.query_params.get("q", "").strip()[:200] or None
    after = _uuid(request, "after")
    version = _int(request, "version")
    browser = await service.browse(
        session,
        proposal_id=proposal_id,
        user=user,
        filters=filters,
        code=code,
        q=q,
        after=after,
        version=version,
    )
    return render(
        request,
        "themes/answers.html",
        {
            "current_user": user,
            "o": browser.overview,
            "page": browser.page,
            "problem": browser.problem,
            "filters": filters,
            "theme": code,
            "q": q or "",
            "after": after,
            "version": version,
            "query_string": query_string,
            "form": form_options(browser.overview.options, BROWSER_CAMPAIGN_LABELS),
            "stance_labels": STANCE_LABELS,
        },
    )

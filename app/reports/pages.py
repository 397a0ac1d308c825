"""The published report page `/c/{slug}/report`, and the same page as one static HTML file."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.db import SessionDep
from app.reports import service
from app.reports.service import Report
from app.users.dependencies import OptionalUser
from app.web import APP_DIR, render, templates

router = APIRouter(include_in_schema=False)

TEMPLATE = "reports/report.html"


@router.get("/c/{slug}/report", response_class=HTMLResponse)
async def report_page(
    slug: str, request: Request, session: SessionDep, user: OptionalUser
) -> HTMLResponse:
    report = await service.build_report(session, slug=slug, user=user)
    return render(request, TEMPLATE, {"report": report, "current_user": user})


_STYLESHEET = re.compile(r'<link rel="stylesheet" href="/static/([\w./-]+\.css)">')
_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)


def static_html(report: Report) -> str:
    """The report as one self-contained HTML file: stylesheets inlined, no scripts, links
    to the site's navigation left as they are."""
    page = templates().env.get_template(TEMPLATE).render(report=report, current_user=None)

    def inline(match: re.Match[str]) -> str:
        path = (APP_DIR / "static" / match.group(1)).resolve()
        if not path.is_relative_to(APP_DIR / "static"):
            return ""
        return f"<style>\n{path.read_text(encoding='utf-8')}\n</style>"

    return _SCRIPT.sub("", _STYLESHEET.sub(inline, page))

"""`consult report SLUG --out report.html`: the report as one static HTML file."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from app.reports import service
from app.reports.pages import static_html


def run_report(url: str, *, slug: str, out: Path) -> str:
    """Writes the report (a preview when the consultation is not yet published)."""
    from app.cli import run_in_session

    async def work(session: AsyncSession) -> service.Report:
        return await service.build_report(session, slug=slug, user=None, operator=True)

    report = run_in_session(url, work)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(static_html(report), encoding="utf-8")
    kind = "preview of the report" if report.preview else "published report"
    return f"Wrote the {kind} on '{slug}' to {out} ({out.stat().st_size:,} bytes)."

"""`consult analyse discover SLUG --proposal N`: a discover run, followed, then its suggestions."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


def analyse_discover(slug: str, proposal: str, *, seed: int, n_themes: str) -> None:
    from rich.table import Table

    from app import migrate
    from app.cli import console, database, fail, follow_run, run_in_session
    from app.coding.cli import find_proposal
    from app.discovery import service
    from app.discovery.schemas import DiscoverCreate
    from app.errors import ConsultError
    from app.jobs.worker import make_app

    try:
        data = DiscoverCreate(n_themes=int(n_themes) if n_themes != "auto" else "auto", seed=seed)
    except ValueError as exc:
        fail(f"--themes takes a number or 'auto': {exc}")

    async def create(session: AsyncSession) -> Any:
        proposal_id = await find_proposal(session, slug=slug, proposal=proposal)
        return await service.start_discovery(
            session, queue=make_app(url), proposal_id=proposal_id, user=None, data=data
        )

    async def suggestions(session: AsyncSession) -> Any:
        return await service.stored_suggestions(session, run_id=run.id)

    with database() as url:
        migrate.upgrade(url)
        try:
            run = run_in_session(url, create)
        except ConsultError as exc:
            fail(exc.message)
        console.print(f"Run {run.id} queued: {run.progress_total} answers, 1 job.")
        run = follow_run(url, run, "discover")
        rows = run_in_session(url, suggestions)
    table = Table(title=f"Candidate themes (run {run.id}, seed {run.seed})")
    for column in ("#", "draft label", "top terms", "answers"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row.position + 1), row.label, ", ".join(row.top_terms), str(row.answer_count)
        )
    console.print(table)

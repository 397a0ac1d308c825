"""`consult analyse discover SLUG --proposal N`: a discover run, followed, then its suggestions."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


def analyse_discover(slug: str, proposal: str, *, seed: int, n_themes: str) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
    from rich.table import Table

    from app import migrate
    from app.cli import _start_worker, console, database, err_console, fail, run_in_session
    from app.coding.cli import find_proposal
    from app.config import get_settings
    from app.discovery import service
    from app.discovery.schemas import DiscoverCreate
    from app.errors import ConsultError
    from app.jobs import service as jobs
    from app.jobs.worker import live_workers, make_app

    try:
        data = DiscoverCreate(n_themes=int(n_themes) if n_themes != "auto" else "auto", seed=seed)
    except ValueError as exc:
        fail(f"--themes takes a number or 'auto': {exc}")

    async def create(session: AsyncSession) -> Any:
        proposal_id = await find_proposal(session, slug=slug, proposal=proposal)
        return await service.start_discovery(
            session, queue=make_app(url), proposal_id=proposal_id, user=None, data=data
        )

    async def fetch(session: AsyncSession) -> Any:
        return await jobs.get_run(session, run_id=run.id, user=None)

    async def suggestions(session: AsyncSession) -> Any:
        return await service.stored_suggestions(session, run_id=run.id)

    with database() as url:
        migrate.upgrade(url)
        try:
            run = run_in_session(url, create)
        except ConsultError as exc:
            fail(exc.message)
        console.print(f"Run {run.id} queued: {run.progress_total} answers, 1 job.")
        in_process = None
        if asyncio.run(live_workers(url)) == 0:
            if get_settings().database_url:
                err_console.print("No worker is running: start one with `consult worker`.")
            else:
                in_process = _start_worker(url)
        try:
            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as bar:
                task = bar.add_task(f"discover ({run.status.value})", total=run.progress_total or 1)
                while True:
                    run = run_in_session(url, fetch)
                    bar.update(
                        task,
                        completed=run.progress_done,
                        total=run.progress_total or 1,
                        description=f"discover ({run.status.value})",
                    )
                    if run.status.value in ("succeeded", "failed"):
                        break
                    time.sleep(0.5)
        finally:
            if in_process is not None:
                in_process.stop()
        if run.status.value == "failed":
            fail(f"Run {run.id} failed: {run.error}. Retry it: POST /api/v1/jobs/{run.id}/retry")
        rows = run_in_session(url, suggestions)
    table = Table(title=f"Candidate themes (run {run.id}, seed {run.seed})")
    for column in ("#", "draft label", "top terms", "answers"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row.position + 1), row.label, ", ".join(row.top_terms), str(row.answer_count)
        )
    console.print(table)

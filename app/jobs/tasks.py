"""The procrastinate tasks, registered on an App by `register_tasks` (no import-time app)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from procrastinate import App, JobContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.jobs import service

log = logging.getLogger(__name__)

RECOVER_TASK = "consult.recover"


def _sessionmaker(context: JobContext) -> async_sessionmaker[AsyncSession]:
    sessionmaker: async_sessionmaker[AsyncSession] = context.additional_context["sessionmaker"]
    return sessionmaker


async def run_chunk(context: JobContext, run_id: str, chunk: int) -> None:
    """One chunk of an analysis run (see app.jobs.service for the state machine)."""
    await service.run_chunk(_sessionmaker(context), run_id=uuid.UUID(run_id), index=chunk)


async def recover(context: JobContext, timestamp: int) -> None:
    """Every minute: re-queue work of dead workers and chunks left without a job."""
    count = await service.recover(_sessionmaker(context), context.app)
    if count:
        log.info("re-queued %d stalled or orphaned jobs", count)


def register_tasks(app: App) -> App:
    app.task(name=service.RUN_CHUNK_TASK, pass_context=True)(run_chunk)
    recover_task: Any = app.task(name=RECOVER_TASK, pass_context=True, queueing_lock=RECOVER_TASK)
    app.periodic(cron="* * * * *")(recover_task(recover))
    return app

"""The demo's campaign detection and theme discovery, through the normal run machinery.

For the open demo consultation: a `dedupe` run finds the organised letter campaign (its
members get `responses.campaign_id`), then a `discover` run per proposal stores candidate
themes for the codeframe editor. Chunks run in this process (no worker needed).
Idempotent: skipped when the consultation already has a dedupe run.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.campaigns.models import Campaign
from app.coding.review import run_in_process
from app.consultations.models import Consultation, Proposal
from app.demo.content import DemoConsultation
from app.discovery import service as discovery
from app.discovery.schemas import DiscoverCreate
from app.jobs import service as jobs
from app.jobs.models import AnalysisRun, RunKind


async def load_demo_campaigns(session: AsyncSession, demo: DemoConsultation) -> str:
    from app.jobs.worker import queue_app

    consultation = await session.scalar(select(Consultation).where(Consultation.slug == demo.slug))
    if consultation is None:
        return f"{demo.slug}: no campaign detection (consultation missing)"
    done = await session.scalar(
        select(AnalysisRun.id).where(
            AnalysisRun.consultation_id == consultation.id,
            AnalysisRun.kind == RunKind.dedupe.value,
        )
    )
    if done is not None:
        return f"{demo.slug}: campaigns already detected"
    run = await jobs.create_run(
        session, queue=queue_app(), consultation=consultation, kind="dedupe", user=None
    )
    run = await run_in_process(session, run_id=run.id)
    campaigns = list(
        await session.scalars(
            select(Campaign)
            .where(Campaign.consultation_id == consultation.id)
            .order_by(Campaign.member_count.desc())
        )
    )
    proposals = list(
        await session.scalars(
            select(Proposal.id).where(Proposal.consultation_id == consultation.id)
        )
    )
    candidates = 0
    for proposal_id in proposals:
        found = await discovery.start_discovery(
            session, queue=queue_app(), proposal_id=proposal_id, user=None, data=DiscoverCreate()
        )
        found = await run_in_process(session, run_id=found.id)
        candidates += int(found.metrics.get("candidates", 0))
    sizes = ", ".join(str(c.member_count) for c in campaigns) or "none"
    return (
        f"{demo.slug}: {len(campaigns)} campaign(s) of {sizes} responses; "
        f"{candidates} candidate themes over {len(proposals)} proposals"
    )

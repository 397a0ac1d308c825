"""The demo's analysis: codeframes, a hand-coded sample, and model codings and stances.

For the open demo consultation, per proposal with themes and open questions: a codeframe is
created from the demo's themes and published by the demo analyst; about a fifth of the
proposal's open-text answers (a seeded random sample) are coded by that analyst from the
generator's gold themes through the ordinary human coding (audited); then a code run and a
stance run go through the normal run machinery, their chunks done in this process. Pages
then show human and model codings, evidence, the review queue and stances.

Idempotent: a proposal that already has a codeframe is left alone.
"""

from __future__ import annotations

import random

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.codeframes import service as codeframes
from app.codeframes.models import Codeframe
from app.codeframes.schemas import CodeframeCreate, ThemeIn
from app.coding.review import run_in_process, start_proposal_run
from app.coding.schemas import CodesIn
from app.coding.service import set_codes
from app.consultations.models import Consultation, Proposal
from app.db import refresh_statistics
from app.demo.content import DemoConsultation
from app.users.models import User

SEED_FRACTION = 0.2
DEMO_ANALYST = "analyst@demo.consult.example"


async def analyse_demo(session: AsyncSession, demo: DemoConsultation, *, seed: int = 0) -> str:
    """Codes the open demo consultation (see the module docstring); returns a summary line."""
    from app.jobs.worker import queue_app

    consultation = await session.scalar(select(Consultation).where(Consultation.slug == demo.slug))
    analyst = await session.scalar(select(User).where(User.email == DEMO_ANALYST))
    if consultation is None or analyst is None:
        return f"{demo.slug}: no analysis (consultation or analyst missing)"
    proposals = list(
        await session.scalars(
            select(Proposal)
            .where(Proposal.consultation_id == consultation.id)
            .order_by(Proposal.position, Proposal.created_at)
        )
    )
    rng = random.Random(seed)
    coded = model = 0
    for proposal, spec in zip(proposals, demo.proposals, strict=True):
        if not spec.themes:
            continue
        if await session.scalar(select(Codeframe.id).where(Codeframe.proposal_id == proposal.id)):
            continue
        draft = await codeframes.create_codeframe(
            session,
            proposal_id=proposal.id,
            user=analyst,
            data=CodeframeCreate(
                themes=[
                    ThemeIn(code=t.code, label=t.label, description=t.description)
                    for t in spec.themes
                ]
            ),
        )
        published = await codeframes.publish(session, codeframe_id=draft.id, user=analyst)
        keys = {q.number: q.key for q in spec.questions if q.kind == "open_text"}
        gold: dict[tuple[str, str], list[str]] = {}
        for response in demo.responses:
            for key, value in response.answers.items():
                if isinstance(value, str) and key in response.gold_themes:
                    gold.setdefault((key, value), sorted(response.gold_themes[key]))
        rows = (
            await session.execute(
                text(
                    "SELECT a.id, q.number, a.text FROM answers a "
                    "JOIN questions q ON q.id = a.question_id "
                    "WHERE q.proposal_id = :p AND a.text IS NOT NULL AND btrim(a.text) <> ''"
                ),
                {"p": proposal.id},
            )
        ).all()
        # In text order, so the sample does not depend on the answers' random ids.
        candidates = sorted(
            (row.text, str(row.id), row.id, gold[(keys[row.number], row.text)])
            for row in rows
            if row.number in keys and (keys[row.number], row.text) in gold
        )
        sample = rng.sample(candidates, round(SEED_FRACTION * len(candidates)))
        for _, _, answer_id, themes in sample:
            await set_codes(
                session,
                answer_id=answer_id,
                user=analyst,
                data=CodesIn(codeframe_id=published.id, themes=themes),
            )
        coded += len(sample)
        await session.flush()
        if not sample:
            continue
        await refresh_statistics(session)
        for kind in ("code", "stance"):
            run = await start_proposal_run(
                session,
                queue=queue_app(),
                proposal_id=proposal.id,
                user=analyst,
                kind=kind,
                seed=seed,
            )
            run = await run_in_process(session, run_id=run.id)
            if kind == "code":
                model += run.data_count - len(sample)
    return f"{demo.slug}: codeframes published, {coded} answers coded by hand, {model} by the model"

"""Proposal runs over the API, the review queue, active-learning suggestions, and running a
run's chunks in-process (the benchmark, the demo, tests).

Review queue: the answers of a proposal that have a current decision an analyst should
check, in the proposal's published codeframe: model decisions marked borderline (near the
theme's threshold, see app.coding.runs) and decisions carried to a split target
(`needs_review`). Answers needing review come first, then the most borderline. An analyst
confirms or corrects an item with the ordinary human coding (`PUT /api/v1/answers/{id}/codes`,
or the coding editor page), which supersedes every model decision of the answer, so it
leaves the queue.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.codeframes.service import authorise_proposal, published_codeframe
from app.coding import runs
from app.coding.schemas import (
    ReviewCode,
    ReviewItem,
    ReviewQueueOut,
    SuggestedAnswer,
    SuggestedAnswersOut,
)
from app.errors import Conflict
from app.jobs import service as jobs
from app.jobs.models import AnalysisRun, AnalysisRunChunk, RunKind, RunStatus
from app.users.models import User

if TYPE_CHECKING:
    from procrastinate import App

# Uncoded answers the active-learning suggestion looks at (the first ones by id).
MAX_CANDIDATES = 5_000


class NoModel(Conflict):
    code = "no_model"
    message = "No finished code run for the published codeframe: start a code run first."


async def start_proposal_run(
    session: AsyncSession,
    *,
    queue: App,
    proposal_id: uuid.UUID,
    user: User | None,
    kind: str,
    seed: int = 0,
    parameters: dict[str, Any] | None = None,
    chunk_size: int | None = None,
) -> AnalysisRun:
    """Admins and analyst members (user None: the CLI) start a code or stance run."""
    if user is not None:
        await authorise_proposal(session, proposal_id=proposal_id, user=user, write=True)
    return await runs.start_run(
        session,
        queue=queue,
        proposal_id=proposal_id,
        kind=kind,
        user=user,
        seed=seed,
        parameters=parameters,
        chunk_size=chunk_size,
    )


async def run_in_process(
    session: AsyncSession, *, run_id: uuid.UUID, commit: bool = False
) -> AnalysisRun:
    """Does a queued run's chunks here, one after another (no worker), and removes their
    queued jobs. With `commit`, commits after each chunk (as a worker would)."""
    indexes = list(
        await session.scalars(
            select(AnalysisRunChunk.index)
            .where(AnalysisRunChunk.run_id == run_id)
            .order_by(AnalysisRunChunk.index)
        )
    )
    for index in indexes:
        if await jobs.start_chunk(session, run_id=run_id, index=index):
            await jobs.complete_chunk(session, run_id=run_id, index=index)
        if commit:
            await session.commit()
    await session.execute(
        text(
            "DELETE FROM procrastinate_jobs WHERE status = 'todo' AND id IN "
            "(SELECT job_id FROM analysis_run_chunks WHERE run_id = :id)"
        ),
        {"id": run_id},
    )
    if commit:
        await session.commit()
    run = await session.get(AnalysisRun, run_id, populate_existing=True)
    assert run is not None
    return run


# --------------------------------------------------------------------------------------
# Review queue
# --------------------------------------------------------------------------------------

_QUEUE = """
    FROM codings c
    JOIN answers a ON a.id = c.answer_id
    JOIN responses r ON r.id = a.response_id
    WHERE c.codeframe_id = :cf AND c.is_current AND r.status = 'received'
      AND (c.needs_review OR (c.source = 'model'
           AND coalesce((c.evidence->>'borderline')::boolean, false)))
"""


async def review_queue(
    session: AsyncSession,
    *,
    proposal_id: uuid.UUID,
    user: User,
    page: int = 1,
    per_page: int = 20,
) -> ReviewQueueOut:
    await authorise_proposal(session, proposal_id=proposal_id, user=user, write=True)
    codeframe = await published_codeframe(session, proposal_id)
    if codeframe is None:
        return ReviewQueueOut(
            proposal_id=proposal_id,
            codeframe_id=None,
            codeframe_version=None,
            total=0,
            page=page,
            per_page=per_page,
            items=[],
        )
    total = int(
        await session.scalar(
            text(f"SELECT count(DISTINCT c.answer_id) {_QUEUE}"),
            {"cf": codeframe.id},
        )
        or 0
    )
    page_rows = (
        await session.execute(
            text(
                "SELECT c.answer_id, bool_or(c.needs_review) AS carried, "
                "min(abs(coalesce(c.confidence, 0.5) - "
                "coalesce((c.evidence->>'threshold')::float8, 0.5))) AS margin "
                f"{_QUEUE} GROUP BY c.answer_id "
                "ORDER BY carried DESC, margin ASC, c.answer_id LIMIT :limit OFFSET :offset"
            ),
            {"cf": codeframe.id, "limit": per_page, "offset": (page - 1) * per_page},
        )
    ).all()
    ids = [row.answer_id for row in page_rows]
    items: list[ReviewItem] = []
    if ids:
        texts = {
            row.id: (row.number, row.redacted_text or "")
            for row in await session.execute(
                text(
                    "SELECT a.id, q.number, a.redacted_text FROM answers a "
                    "JOIN questions q ON q.id = a.question_id WHERE a.id = ANY(:ids)"
                ),
                {"ids": ids},
            )
        }
        decisions: dict[uuid.UUID, list[Any]] = {i: [] for i in ids}
        for row in await session.execute(
            text(
                "SELECT c.answer_id, t.code, t.label, c.present, c.source, c.confidence, "
                "c.needs_review, c.evidence->>'threshold' AS threshold, "
                "coalesce((c.evidence->>'borderline')::boolean, false) AS borderline "
                "FROM codings c JOIN themes t ON t.id = c.theme_id "
                "WHERE c.codeframe_id = :cf AND c.is_current AND c.answer_id = ANY(:ids) "
                "ORDER BY t.position, t.code"
            ),
            {"cf": codeframe.id, "ids": ids},
        ):
            decisions[row.answer_id].append(row)
        for answer_id in ids:
            rows = decisions[answer_id]
            number, redacted = texts[answer_id]
            items.append(
                ReviewItem(
                    answer_id=answer_id,
                    question_number=number,
                    redacted_text=redacted,
                    codes=[
                        ReviewCode(
                            code=r.code,
                            label=r.label,
                            present=r.present,
                            source=r.source,
                            confidence=r.confidence,
                            threshold=float(r.threshold) if r.threshold is not None else None,
                            borderline=bool(r.borderline),
                            needs_review=r.needs_review,
                        )
                        for r in rows
                        if r.present or r.borderline or r.needs_review
                    ],
                    present=[r.code for r in rows if r.present],
                )
            )
    return ReviewQueueOut(
        proposal_id=proposal_id,
        codeframe_id=codeframe.id,
        codeframe_version=codeframe.version,
        total=total,
        page=page,
        per_page=per_page,
        items=items,
    )


# --------------------------------------------------------------------------------------
# Active learning
# --------------------------------------------------------------------------------------


async def latest_code_run(
    session: AsyncSession, proposal_id: uuid.UUID, codeframe_id: uuid.UUID
) -> AnalysisRun | None:
    return await session.scalar(
        select(AnalysisRun)
        .where(
            AnalysisRun.proposal_id == proposal_id,
            AnalysisRun.kind == RunKind.code.value,
            AnalysisRun.status == RunStatus.succeeded,
            AnalysisRun.parameters["codeframe_id"].astext == str(codeframe_id),
        )
        .order_by(AnalysisRun.finished_at.desc().nulls_last(), AnalysisRun.created_at.desc())
        .limit(1)
    )


async def suggested_answers(
    session: AsyncSession, *, proposal_id: uuid.UUID, user: User, k: int = 20
) -> SuggestedAnswersOut:
    """The uncoded answers the latest code model is least sure about (most informative to
    code next), skipping near-duplicates of each other."""
    await authorise_proposal(session, proposal_id=proposal_id, user=user, write=True)
    codeframe = await published_codeframe(session, proposal_id)
    run = await latest_code_run(session, proposal_id, codeframe.id) if codeframe else None
    found = await runs.load_artefact(session, run.id) if run else None
    if run is None or found is None:
        raise NoModel()
    model: runs.CodeModel = found[1]
    assert codeframe is not None
    rows = (
        await session.execute(
            text(
                "SELECT a.id, q.number, a.redacted_text, "  # noqa: S608
                "coalesce(a.redacted_text, a.text) AS text "
                f"{runs._CODABLE} AND NOT EXISTS (SELECT 1 FROM codings h "
                "WHERE h.answer_id = a.id AND h.codeframe_id = :cf AND h.is_current "
                "AND h.source = 'human' AND NOT h.needs_review) ORDER BY a.id LIMIT :limit"
            ),
            {"proposal_id": proposal_id, "cf": codeframe.id, "limit": MAX_CANDIDATES},
        )
    ).all()
    texts = [r.text for r in rows]

    def pick() -> tuple[list[int], list[float], list[list[str]]]:
        chosen = model.coder.most_informative(texts, k=k) if texts else []
        picked = [texts[i] for i in chosen]
        u = model.coder.uncertainty(picked) if picked else []
        labels = model.coder.predict(picked) if picked else []
        return chosen, [float(x) for x in u], labels

    chosen, uncertainty, labels = await asyncio.to_thread(pick)
    return SuggestedAnswersOut(
        proposal_id=proposal_id,
        run_id=run.id,
        codeframe_version=codeframe.version,
        candidates=len(rows),
        items=[
            SuggestedAnswer(
                answer_id=rows[i].id,
                question_number=rows[i].number,
                redacted_text=rows[i].redacted_text or "",
                uncertainty=round(u, 4),
                predicted=labs,
            )
            for i, u, labs in zip(chosen, uncertainty, labels, strict=True)
        ],
    )

"""The `discover` run kind: candidate themes for one proposal's answers, in ONE chunk.

Discovery factorises all of the proposal's answers together (NMF), so like campaign
detection it cannot be split by id range: a run is one chunk. Above `sample_size` answers
(parameter, default 20,000) it works on a seeded random sample (ordered by a hash of answer
id and seed, so the same data and seed give the same sample): a few thousand answers are
plenty to suggest themes, and the cost stays bounded for a million answers.

Input: the proposal's open-text answers of responses neither withdrawn nor excluded, their
REDACTED text. Campaign letters count once: for members of a campaign (set by a dedupe
run) the first member's answer to a question stands for the letter and the others
contribute only what they added to it, so a 60-letter campaign does not become the
proposal's largest "theme" six times over.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ValidationFailed, field_error
from app.jobs.models import AnalysisRun, AnalysisRunChunk, RunKind
from app.jobs.service import ChunkResult, combine_hashes, handler, item_hash, planner

DEFAULT_SAMPLE_SIZE = 20_000

ANSWERS_SQL = text(
    """
    SELECT a.id, a.redacted_text AS text, r.campaign_id, a.question_id
    FROM answers a
    JOIN responses r ON r.id = a.response_id
    JOIN questions q ON q.id = a.question_id
    WHERE q.proposal_id = :proposal_id AND q.kind = 'open_text' AND r.status = 'received'
      AND coalesce(btrim(a.redacted_text), '') <> ''
    ORDER BY md5(a.id::text || :seed), a.id
    LIMIT :limit
    """
)


@planner(RunKind.discover)
async def plan_discover(
    session: AsyncSession, consultation_id: uuid.UUID, proposal_id: uuid.UUID | None, size: int
) -> tuple[int, list[uuid.UUID]]:
    if proposal_id is None:
        message = "Discovery runs per proposal: POST /api/v1/proposals/{id}/discover."
        raise ValidationFailed(fields=[field_error(["kind"], message, "kind")])
    row = (
        await session.execute(
            text(
                "SELECT count(*) AS total, min(a.id::text) AS first FROM answers a "
                "JOIN responses r ON r.id = a.response_id "
                "JOIN questions q ON q.id = a.question_id "
                "WHERE q.proposal_id = :p AND q.kind = 'open_text' AND r.status = 'received' "
                "AND coalesce(btrim(a.redacted_text), '') <> ''"
            ),
            {"p": proposal_id},
        )
    ).one()
    if not row.total:
        return 0, []
    return int(row.total), [uuid.UUID(row.first)]


@dataclass
class Document:
    answer_id: uuid.UUID
    text: str  # what discovery reads (a campaign member's additions only)


def documents(rows: list[Any]) -> list[Document]:
    """One document per answer; campaign letters once (see module doc)."""
    from analysis.campaigns import added_text

    letters: dict[tuple[uuid.UUID, uuid.UUID], str] = {}
    docs: list[Document] = []
    for row in sorted(rows, key=lambda r: str(r.id)):
        if row.campaign_id is None:
            docs.append(Document(row.id, row.text))
            continue
        key = (row.campaign_id, row.question_id)
        letter = letters.get(key)
        if letter is None:
            letters[key] = row.text
            docs.append(Document(row.id, row.text))
            continue
        extra = added_text(letter, row.text)
        if len(extra.split()) >= 3:
            docs.append(Document(row.id, extra))
    return docs


def _discover(texts: list[str], parameters: dict[str, Any], seed: int) -> Any:
    from analysis.discovery import ThemeDiscoverer

    model = ThemeDiscoverer(
        n_themes=parameters.get("n_themes", "auto"),
        max_themes=int(parameters.get("max_themes", 12)),
        random_state=seed,
    )
    return model.fit(texts)


@handler(RunKind.discover)
async def discover_chunk(
    session: AsyncSession, run: AnalysisRun, chunk: AnalysisRunChunk
) -> ChunkResult:
    assert run.proposal_id is not None  # the planner refuses runs without one
    limit = int(run.parameters.get("sample_size", DEFAULT_SAMPLE_SIZE))
    rows = (
        await session.execute(
            ANSWERS_SQL, {"proposal_id": run.proposal_id, "seed": str(run.seed), "limit": limit}
        )
    ).all()
    docs = documents(list(rows))
    model = await asyncio.to_thread(_discover, [d.text for d in docs], run.parameters, run.seed)
    outputs = []
    for theme in model.themes_:
        representatives = [str(docs[i].answer_id) for i in theme.representatives]
        await session.execute(
            text(
                "INSERT INTO theme_suggestions (run_id, proposal_id, position, label, top_terms, "
                "answer_count, share, representative_answer_ids, details) VALUES (:run, :p, "
                ":position, :label, CAST(:terms AS jsonb), :count, :share, "
                "CAST(:reps AS jsonb), CAST(:details AS jsonb)) "
                "ON CONFLICT (run_id, position) DO NOTHING"
            ),
            {
                "run": run.id,
                "p": run.proposal_id,
                "position": theme.index,
                "label": theme.label,
                "terms": _json(theme.top_terms),
                "count": theme.size,
                "share": theme.share,
                "reps": _json(representatives),
                "details": _json({"term_weights": [round(w, 4) for w in theme.term_weights]}),
            },
        )
        outputs.append(f"{theme.label}|{'/'.join(theme.top_terms)}|{len(theme.members)}")
    return ChunkResult(
        done=len(rows),
        data_hash=combine_hashes(item_hash(row.id, row.text) for row in rows),
        output_hash=hashlib.sha256("\n".join(outputs).encode()).hexdigest(),
        metrics={
            "answers": len(rows),
            "documents": len(docs),
            "candidates": len(model.themes_),
        },
    )


def _json(value: Any) -> str:
    import json

    return json.dumps(value)

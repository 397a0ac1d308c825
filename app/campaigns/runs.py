"""The `dedupe` run kind: campaign detection over a whole consultation, in ONE chunk.

Campaign detection is a whole-dataset operation: whether a response belongs to a campaign,
and which text is the template, depend on every other response (connected components over
near-duplicate pairs, a medoid per component). Splitting the responses into id ranges would
cut campaigns in pieces, so a dedupe run is planned as a single chunk covering all of the
consultation's responses. That is affordable: the detector is near-linear (about 17,000
texts a second on one core, see benchmarks/campaign_quality.py), so a million responses is
about a minute of one worker; progress jumps from 0 to the total when the chunk completes.

Input: each response that is not withdrawn or excluded and has free text, as the
concatenation of its open-text answers' REDACTED text in question order (blank line
between answers). Redacted, because the template is shown to reviewers and in reports; it
also helps detection, since a name or email each sender filled in becomes one placeholder.
Responses are read in id order and the detector is seeded with the run's seed, so the same
data and seed give the same campaigns. Each run replaces the previous assignment of the
consultation: old campaigns are deleted (responses.campaign_id is cleared by the foreign
key, then set again for this run's members) and a campaign whose template text is
unchanged keeps the label an analyst gave it. One audit event records the assignment.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Actor, record_event
from app.jobs.models import AnalysisRun, AnalysisRunChunk, RunKind
from app.jobs.service import ChunkResult, combine_hashes, handler, item_hash, planner

RESPONSE_TEXTS_SQL = text(
    """
    SELECT r.id, string_agg(a.redacted_text, E'\\n\\n' ORDER BY p.position, q.position) AS text
    FROM responses r
    JOIN answers a ON a.response_id = r.id
    JOIN questions q ON q.id = a.question_id
    JOIN proposals p ON p.id = q.proposal_id
    WHERE r.consultation_id = :consultation_id AND r.status = 'received'
      AND q.kind = 'open_text' AND coalesce(btrim(a.redacted_text), '') <> ''
    GROUP BY r.id
    ORDER BY r.id
    """
)

COUNT_SQL = text(
    """
    SELECT count(DISTINCT r.id)
    FROM responses r
    JOIN answers a ON a.response_id = r.id
    JOIN questions q ON q.id = a.question_id
    WHERE r.consultation_id = :consultation_id AND r.status = 'received'
      AND q.kind = 'open_text' AND coalesce(btrim(a.redacted_text), '') <> ''
    """
)


async def response_texts(
    session: AsyncSession, consultation_id: uuid.UUID
) -> list[tuple[uuid.UUID, str]]:
    """(response id, concatenated redacted open-text answers), in response id order."""
    rows = await session.execute(RESPONSE_TEXTS_SQL, {"consultation_id": consultation_id})
    return [(row.id, row.text) for row in rows]


@planner(RunKind.dedupe)
async def plan_dedupe(
    session: AsyncSession, consultation_id: uuid.UUID, proposal_id: uuid.UUID | None, size: int
) -> tuple[int, list[uuid.UUID]]:
    """One chunk over all the consultation's responses with free text (see module doc)."""
    total = await session.scalar(COUNT_SQL, {"consultation_id": consultation_id})
    first = await session.scalar(
        text("SELECT id FROM responses WHERE consultation_id = :c ORDER BY id LIMIT 1"),
        {"c": consultation_id},
    )
    if not total or first is None:
        return 0, []
    return int(total), [first]


def _detect(texts: list[str], seed: int) -> list[tuple[list[int], int, str]]:
    """Campaigns as (member indices, template index, template text), largest first."""
    from analysis.campaigns import CampaignDetector

    detector = CampaignDetector(random_state=seed).fit(texts)
    found = [(list(c.members), c.template_index, c.template) for c in detector.campaigns_]
    return sorted(found, key=lambda c: (-len(c[0]), c[0][0]))


@handler(RunKind.dedupe)
async def dedupe_chunk(
    session: AsyncSession, run: AnalysisRun, chunk: AnalysisRunChunk
) -> ChunkResult:
    rows = await response_texts(session, run.consultation_id)
    ids = [row[0] for row in rows]
    texts = [row[1] for row in rows]
    campaigns = await asyncio.to_thread(_detect, texts, run.seed)

    # Replace the previous assignment (labels kept where the template is unchanged).
    previous = (
        await session.execute(
            text(
                "SELECT c.template_text, c.label, "
                "(SELECT count(*) FROM responses r WHERE r.campaign_id = c.id) AS members "
                "FROM campaigns c WHERE c.consultation_id = :c ORDER BY c.created_at, c.id"
            ),
            {"c": run.consultation_id},
        )
    ).all()
    kept_labels = {row.template_text: row.label for row in previous}
    await session.execute(
        text(
            "UPDATE responses SET campaign_id = NULL WHERE consultation_id = :c "
            "AND campaign_id IS NOT NULL"
        ),
        {"c": run.consultation_id},
    )
    await session.execute(
        text("DELETE FROM campaigns WHERE consultation_id = :c"), {"c": run.consultation_id}
    )
    assigned: dict[uuid.UUID, str] = {}
    summary = []
    used_labels: set[str] = set()
    for number, (members, _template_index, template) in enumerate(campaigns, start=1):
        campaign_id = uuid.uuid4()
        label = kept_labels.get(template) or f"Campaign {number}"
        if label in used_labels:
            label = f"Campaign {number}"
        used_labels.add(label)
        await session.execute(
            text(
                "INSERT INTO campaigns (id, consultation_id, run_id, template_text, "
                "member_count, label) VALUES (:id, :c, :run, :template, :count, :label)"
            ),
            {
                "id": campaign_id,
                "c": run.consultation_id,
                "run": run.id,
                "template": template,
                "count": len(members),
                "label": label,
            },
        )
        member_ids = [ids[i] for i in members]
        await session.execute(
            text(
                "UPDATE responses SET campaign_id = :campaign WHERE id = ANY(CAST(:ids AS uuid[]))"
            ),
            {"campaign": campaign_id, "ids": member_ids},
        )
        template_hash = hashlib.sha256(template.encode()).hexdigest()
        for member in member_ids:
            assigned[member] = template_hash
        summary.append(
            {
                "id": str(campaign_id),
                "label": label,
                "member_count": len(members),
                "template_sha256": template_hash,
            }
        )
    await record_event(
        session,
        action="campaigns.assign",
        entity_type="analysis_run",
        entity_id=run.id,
        before={
            "campaigns": len(previous),
            "members": sum(int(row.members) for row in previous),
        },
        after={
            "campaigns": summary,
            "members": len(assigned),
            "responses": len(ids),
            "seed": run.seed,
        },
        actor=Actor.system("dedupe run"),
        consultation_id=run.consultation_id,
    )
    return ChunkResult(
        done=len(ids),
        data_hash=combine_hashes(item_hash(i, t) for i, t in zip(ids, texts, strict=True)),
        output_hash=combine_hashes(item_hash(i, assigned.get(i)) for i in ids),
        metrics={"responses": len(ids), "campaigns": len(campaigns), "members": len(assigned)},
    )

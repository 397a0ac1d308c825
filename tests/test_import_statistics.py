"""Large imports refresh the statistics of respondents and responses before storing answers.

The answers count trigger (migration 0007) joins the new answers with those tables; with the
statistics of an empty table its plan rescanned the spilled new answers once per response,
and a 100,000-row import into a fresh database ran for minutes. Here the threshold is
lowered so a small file takes the same path: the import stores everything, the running
answer counts equal a recount from scratch, and the planner sees the imported responses.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import Role
from app.imports import service
from tests.conftest import Users
from tests.factories import create_consultation

SLUG = "statistics-import"


def _csv(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["response_id", "region", "Q1", "Question 2", "3"])
    for i in range(rows):
        region = ["Wales", "Scotland", ""][i % 3]
        writer.writerow([f"s-{i}", region, f"Answer {i} from Jane", "Agree", f"More {i}"])
    return out.getvalue().encode()


async def _answer_counts(session: AsyncSession) -> set[tuple[Any, ...]]:
    rows = await session.execute(text("SELECT * FROM answer_counts WHERE n <> 0"))
    return {tuple(r) for r in rows}


@pytest.mark.parametrize("threshold", [1, 1_000_000])
async def test_import_with_refreshed_statistics_keeps_counts_exact(
    client: httpx.AsyncClient,
    session: AsyncSession,
    users: Users,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    threshold: int,
) -> None:
    await create_consultation(client, await users.token(Role.admin), SLUG)
    monkeypatch.setattr(service, "ANALYZE_MIN_ROWS", threshold)
    path = tmp_path / "rows.csv"
    path.write_bytes(_csv(30))

    result = await service.import_responses(
        session, slug=SLUG, user=None, filename="rows.csv", path=path, max_answer_chars=20_000
    )

    assert (result.responses, result.answers) == (30, 90)
    assert ("write.analyze" in result.timings) == (threshold == 1)
    stored = await session.scalar(
        text(
            "SELECT count(*) FROM answers a JOIN responses r ON r.id = a.response_id "
            "WHERE r.import_id = :id"
        ),
        {"id": result.import_id},
    )
    assert stored == 90
    counts = await _answer_counts(session)
    assert sum(row[-1] for row in counts) == 60  # open-text answers (questions 1 and 3)
    await session.execute(text("SELECT theme_counts_rebuild(NULL)"))
    assert await _answer_counts(session) == counts
    if threshold == 1:
        # ANALYZE counted the import's own, not yet committed, rows.
        seen = await session.scalar(
            text("SELECT reltuples FROM pg_class WHERE oid = 'responses'::regclass")
        )
        assert seen is not None and seen >= 30

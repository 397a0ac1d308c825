"""Publishing a new codeframe version keeps answers the model coded coded.

Model decisions are stored sparsely (present themes, borderline absent ones and each answer's
least certain absent one); a theme with no stored decision was decided absent. When every
stored decision of an answer is on a theme the new version does not carry over, publishing
must still leave the answer coded in the new version (its carried-over themes absent), or it
would read as uncoded and drop out of audit samples until the next code run.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.test_codeframes import World, make_world


@pytest.fixture
async def world(client, users) -> World:  # type: ignore[no-untyped-def]
    return await make_world(client, users)


async def model_rows(
    session: AsyncSession, answer_id: str, codeframe: dict[str, Any], rows: dict[str, float]
) -> None:
    """Stores model decisions as a sparse code run would: theme code -> probability (present
    at 0.5 and above)."""
    theme_ids = {t["code"]: t["id"] for t in codeframe["themes"]}
    run_id = uuid.uuid4()
    for code, p in rows.items():
        await session.execute(
            text(
                "INSERT INTO codings (answer_id, theme_id, codeframe_id, present, source, "
                "run_id, confidence, evidence) VALUES (:a, :t, :cf, :present, 'model', :run, "
                ":p, '{}')"
            ),
            {
                "a": answer_id,
                "t": theme_ids[code],
                "cf": codeframe["id"],
                "present": p >= 0.5,
                "run": run_id,
                "p": p,
            },
        )
    await session.commit()


async def test_answer_coded_only_on_retired_themes_stays_coded(
    world: World, session: AsyncSession
) -> None:
    v1 = await world.published()  # P1-01 Privacy, P1-02 Security, P1-03 Better services
    only_retired, kept = await world.answer(session), await world.answer(session)
    # Present on P1-03, least certain absent P1-02: both retired below; P1-01 implicitly absent.
    await model_rows(session, only_retired, v1, {"P1-03": 0.91, "P1-02": 0.22})
    # The same, but its least certain absent theme P1-01 is carried over.
    await model_rows(session, kept, v1, {"P1-03": 0.88, "P1-01": 0.25})

    v2 = await world.codeframe(
        {
            "based_on": v1["id"],
            "operations": [{"op": "retire", "code": "P1-02"}, {"op": "retire", "code": "P1-03"}],
        }
    )
    await world.publish(v2["id"])

    async def codes(answer_id: str) -> Any:
        response = await world.client.get(
            f"/api/v1/answers/{answer_id}/codes", headers=world.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["codeframe_version"] == 2
        return response.json()

    # Both answers were coded by the model in version 1 and neither has a theme in version 2.
    for answer_id in (only_retired, kept):
        body = await codes(answer_id)
        assert body["coded"] is True, answer_id
        assert body["codes"] == []

    # Both are in the population of an audit sample of version 2, and the one whose stored
    # decisions were all retired is not put in a less certain band than its decisions had.
    drawn = await world.client.post(
        f"/api/v1/proposals/{world.proposal_id}/audit-samples",
        json={"design": "stratified", "stratify_by": "confidence_band", "size": 2, "seed": 1},
        headers=world.headers,
    )
    assert drawn.status_code == 201, drawn.text
    sample = drawn.json()
    assert sample["population"] == 2
    assert sample["population_sizes"] == {"medium": 2}

    # The decision written for it says what it stands for.
    row = (
        await session.execute(
            text(
                "SELECT t.code, c.present, c.source, c.carried_from_id IS NOT NULL, c.evidence "
                "FROM codings c JOIN themes t ON t.id = c.theme_id "
                "WHERE c.answer_id = :a AND c.codeframe_id = :cf AND c.is_current"
            ),
            {"a": only_retired, "cf": v2["id"]},
        )
    ).one()
    assert row[:4] == ("P1-01", False, "model", True)
    assert row[4]["carried"]["operation"] == "implicit_absent"
    assert row[4]["carried"]["from_code"] == "P1-02"

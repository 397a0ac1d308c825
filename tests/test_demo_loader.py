from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.consultations.models import Consultation
from app.demo.loader import load_demo
from app.responses.models import Answer, Response


async def test_demo_loads_once_and_exercises_the_intake_features(
    session: AsyncSession, client: httpx.AsyncClient
) -> None:
    first = await load_demo(session)
    responses = await session.scalar(select(func.count()).select_from(Response))
    second = await load_demo(session)
    assert "already loaded" in second and "already loaded" not in first
    assert await session.scalar(select(func.count()).select_from(Response)) == responses

    statuses = set(await session.scalars(select(Consultation.status)))
    assert {"open", "closed", "draft"} <= {s.value for s in statuses}
    main = (await client.get("/api/v1/consultations/better-use-of-data")).json()
    assert main["status"] == "open" and main["accepting_responses"] is True
    assert len(main["proposals"]) >= 3
    for proposal in main["proposals"]:
        kinds = {q["kind"] for q in proposal["questions"]}
        assert "open_text" in kinds
        assert any(q["is_stance"] for q in proposal["questions"])
    assert responses is not None and responses >= 300

    # Personal data in raw answers is redacted in the stored redacted text.
    leaked = await session.scalar(
        select(func.count())
        .select_from(Answer)
        .where(Answer.redacted_text.op("~")(r"07700 ?900\d{3}"))
    )
    raw = await session.scalar(
        select(func.count()).select_from(Answer).where(Answer.text.op("~")(r"07700 ?900\d{3}"))
    )
    assert raw and raw > 0 and leaked == 0

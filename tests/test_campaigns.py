"""Campaign detection runs (`dedupe`): campaigns stored, responses linked, API, audit, access.

The run's single chunk is executed in the test's own transaction (the same functions a
worker calls), so everything is rolled back afterwards.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import Role
from app.jobs import service as jobs
from app.jobs.models import AnalysisRun
from tests.conftest import Users, bearer
from tests.factories import create_consultation, question_ids

LETTER = (
    "I strongly oppose sharing my GP records with private companies. Patients were never "
    "asked and there is no real way to opt out. A single breach would expose the medical "
    "history of millions of people. Please stop this plan until there is proper consent."
)
GREETINGS = ["Dear Sir or Madam,", "To whom it may concern,", "Hello,", "Dear Minister,"]
OWN = "My own daughter had her details leaked by a contractor last year, so this matters."
DISTINCT = [
    "Sharing data between councils would help find families who miss out on support.",
    "I worry about cost: the IT projects of the past went far over budget.",
    "Good idea if it is transparent and people can see who looked at their data.",
    "Rural broadband is too poor for online services to replace local offices.",
    "The NHS should not be part of this at all, health data is too sensitive.",
    "Make sure there is an independent regulator with real powers to fine.",
    "I support this, it would save time filling in the same forms again and again.",
    "Please publish the data protection impact assessment before going ahead.",
]


def letters(n: int) -> list[str]:
    out = []
    for i in range(n):
        body = LETTER if i % 3 else LETTER.replace("medical history", "medical histories")
        out.append(f"{GREETINGS[i % len(GREETINGS)]}\n\n{body}\n\nRegards, [NAME]")
    return out


async def add_response(
    session: AsyncSession, consultation_id: str, answers: dict[str, str], status: str = "received"
) -> uuid.UUID:
    respondent_id, response_id = uuid.uuid4(), uuid.uuid4()
    await session.execute(
        text(
            "INSERT INTO respondents (id, consultation_id, kind, name, publication_consent, "
            "channel) VALUES (:id, :c, 'individual', 'Jane Doe', 'publish', 'email')"
        ),
        {"id": respondent_id, "c": consultation_id},
    )
    await session.execute(
        text(
            "INSERT INTO responses (id, consultation_id, respondent_id, receipt_code, status, "
            "channel) VALUES (:id, :c, :r, :code, :status, 'email')"
        ),
        {
            "id": response_id,
            "c": consultation_id,
            "r": respondent_id,
            "code": uuid.uuid4().hex[:14],
            "status": status,
        },
    )
    for question_id, answer in answers.items():
        await session.execute(
            text(
                "INSERT INTO answers (response_id, question_id, text, redacted_text) "
                "VALUES (:r, :q, :raw, :redacted)"
            ),
            {
                "r": response_id,
                "q": question_id,
                "raw": answer.replace("[NAME]", "Jane Doe"),
                "redacted": answer,
            },
        )
    return response_id


async def run_now(session: AsyncSession, run_id: Any) -> AnalysisRun:
    """What a worker does with each of the run's chunks, in this session."""
    run = await session.get(AnalysisRun, uuid.UUID(str(run_id)))
    assert run is not None
    for index in range(run.chunk_count):
        assert await jobs.start_chunk(session, run_id=run.id, index=index)
        assert await jobs.complete_chunk(session, run_id=run.id, index=index)
    await session.flush()
    found = await session.get(AnalysisRun, run.id, populate_existing=True)
    assert found is not None
    return found


class World:
    def __init__(self, detail: dict[str, Any], admin: str) -> None:
        self.detail = detail
        self.admin = admin
        self.q = question_ids(detail)
        self.members: list[uuid.UUID] = []
        self.others: list[uuid.UUID] = []
        self.added: uuid.UUID | None = None


async def world(client: httpx.AsyncClient, users: Users, session: AsyncSession) -> World:
    admin = await users.token(Role.admin)
    detail = await create_consultation(client, admin, "campaigns")
    w = World(detail, admin)
    for body in letters(12):
        w.members.append(await add_response(session, detail["id"], {w.q["1"]: body}))
    own = f"{GREETINGS[0]}\n\n{LETTER} {OWN}\n\nRegards, [NAME]"
    w.added = await add_response(session, detail["id"], {w.q["1"]: own})
    w.members.append(w.added)
    for i, body in enumerate(DISTINCT):
        w.others.append(
            await add_response(session, detail["id"], {w.q["3"]: body, w.q["1"]: f"Answer {i}."})
        )
    # A withdrawn copy of the letter takes no part.
    await add_response(session, detail["id"], {w.q["1"]: letters(1)[0]}, status="withdrawn")
    await session.commit()
    return w


async def dedupe(
    client: httpx.AsyncClient, session: AsyncSession, w: World, token: str
) -> AnalysisRun:
    started = await client.post(
        "/api/v1/consultations/campaigns/runs", json={"kind": "dedupe"}, headers=bearer(token)
    )
    assert started.status_code == 202, started.text
    body = started.json()
    # A whole-dataset operation: one chunk over every response with free text.
    assert body["kind"] == "dedupe" and body["chunks"] == 1
    assert body["progress"] == {"done": 0, "total": len(w.members) + len(w.others)}
    return await run_now(session, body["id"])


async def test_dedupe_finds_the_campaign_and_links_its_responses(
    client: httpx.AsyncClient, users: Users, session: AsyncSession
) -> None:
    w = await world(client, users, session)
    analyst = await users.token(Role.analyst, member_of=["campaigns"])
    run = await dedupe(client, session, w, analyst)
    assert run.status.value == "succeeded", run.error
    assert run.metrics["campaigns"] == 1 and run.metrics["members"] == len(w.members)

    listed = await client.get("/api/v1/consultations/campaigns/campaigns", headers=bearer(analyst))
    assert listed.status_code == 200, listed.text
    [campaign] = listed.json()
    assert campaign["member_count"] == len(w.members)
    assert campaign["label"] == "Campaign 1" and campaign["run_id"] == str(run.id)
    assert "opt out" in campaign["template_text"]
    # The template is redacted text: the respondent's name never appears.
    assert "Jane Doe" not in campaign["template_text"] and "[NAME]" in campaign["template_text"]

    linked = await session.execute(
        text("SELECT id, campaign_id FROM responses WHERE consultation_id = :c"),
        {"c": w.detail["id"]},
    )
    by_response = {row.id: row.campaign_id for row in linked}
    assert {r for r, c in by_response.items() if c is not None} == set(w.members)

    detail = await client.get(f"/api/v1/campaigns/{campaign['id']}", headers=bearer(analyst))
    assert detail.status_code == 200, detail.text
    members = {m["response_id"]: m["added_text"] for m in detail.json()["members"]}
    assert set(members) == {str(m) for m in w.members}
    # What a respondent added to the template is reported (it is still coded).
    assert "daughter" in members[str(w.added)] and "contractor" in members[str(w.added)]
    assert sum(1 for extra in members.values() if "daughter" in extra) == 1


async def test_rerun_replaces_the_assignment_deterministically_and_is_audited_once_per_run(
    client: httpx.AsyncClient, users: Users, session: AsyncSession
) -> None:
    w = await world(client, users, session)
    first = await dedupe(client, session, w, w.admin)
    before = (
        await client.get("/api/v1/consultations/campaigns/campaigns", headers=bearer(w.admin))
    ).json()
    renamed = before[0]["id"]
    await session.execute(
        text("UPDATE campaigns SET label = 'GP records letter' WHERE id = :id"), {"id": renamed}
    )
    second = await dedupe(client, session, w, w.admin)
    after = (
        await client.get("/api/v1/consultations/campaigns/campaigns", headers=bearer(w.admin))
    ).json()
    assert len(after) == 1 and after[0]["id"] != renamed
    assert after[0]["template_text"] == before[0]["template_text"]
    assert after[0]["member_count"] == before[0]["member_count"]
    # A label an analyst gave survives a re-run that finds the same template.
    assert after[0]["label"] == "GP records letter"
    assert second.data_hash == first.data_hash
    assert second.metrics["output_hash"] == first.metrics["output_hash"]
    assert (
        await session.scalar(
            text("SELECT count(*) FROM campaigns WHERE consultation_id = :c"), {"c": w.detail["id"]}
        )
        == 1
    )
    events = (
        await session.execute(
            text(
                "SELECT entity_id, before, after FROM audit_events "
                "WHERE action = 'campaigns.assign' AND consultation_id = :c ORDER BY seq"
            ),
            {"c": w.detail["id"]},
        )
    ).all()
    assert [e.entity_id for e in events] == [str(first.id), str(second.id)]
    assert events[1].before["campaigns"] == 1 and events[1].before["members"] == len(w.members)
    assert events[1].after["members"] == len(w.members)


async def test_reviewers_read_campaigns_outsiders_do_not(
    client: httpx.AsyncClient, users: Users, session: AsyncSession
) -> None:
    w = await world(client, users, session)
    await dedupe(client, session, w, w.admin)
    reviewer = await users.token(Role.reviewer, member_of=["campaigns"])
    outsider = await users.token(Role.analyst)
    listed = await client.get("/api/v1/consultations/campaigns/campaigns", headers=bearer(reviewer))
    assert listed.status_code == 200 and len(listed.json()) == 1
    campaign_id = listed.json()[0]["id"]
    got = await client.get(f"/api/v1/campaigns/{campaign_id}", headers=bearer(reviewer))
    assert got.status_code == 200
    assert "Jane Doe" not in got.text
    # Reviewers may not start runs; outsiders may not read.
    refused = await client.post(
        "/api/v1/consultations/campaigns/runs", json={"kind": "dedupe"}, headers=bearer(reviewer)
    )
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    for path in ("/api/v1/consultations/campaigns/campaigns", f"/api/v1/campaigns/{campaign_id}"):
        denied = await client.get(path, headers=bearer(outsider))
        assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
    missing = await client.get(f"/api/v1/campaigns/{uuid.uuid4()}", headers=bearer(w.admin))
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert (
        await client.get("/api/v1/consultations/nope/campaigns", headers=bearer(w.admin))
    ).status_code == 404
    bad = await client.get(f"/api/v1/campaigns/{campaign_id}?limit=0", headers=bearer(w.admin))
    assert bad.status_code == 422 and bad.json()["code"] == "validation_failed"


async def test_discover_kind_needs_a_proposal(
    client: httpx.AsyncClient, users: Users, session: AsyncSession
) -> None:
    w = await world(client, users, session)
    refused = await client.post(
        "/api/v1/consultations/campaigns/runs", json={"kind": "discover"}, headers=bearer(w.admin)
    )
    assert refused.status_code == 422 and refused.json()["code"] == "validation_failed"
    assert (
        await session.scalar(
            text(
                "SELECT count(*) FROM analysis_runs WHERE kind = 'discover' "
                "AND consultation_id = :c"
            ),
            {"c": w.detail["id"]},
        )
        == 0
    )


async def test_demo_campaign_is_found(session: AsyncSession) -> None:
    from app.demo.campaigns import load_demo_campaigns
    from app.demo.content import build_demo
    from app.demo.loader import _load_one

    demo = build_demo(2016)
    await _load_one(session, demo)
    summary = await load_demo_campaigns(session, demo)
    rows = (
        await session.execute(
            text(
                "SELECT r.campaign_id, p.attributes->>'demo_campaign' AS truth FROM responses r "
                "JOIN respondents p ON p.id = r.respondent_id JOIN consultations c "
                "ON c.id = r.consultation_id WHERE c.slug = :slug"
            ),
            {"slug": demo.slug},
        )
    ).all()
    members = {i for i, row in enumerate(rows) if row.campaign_id is not None}
    truth = {i for i, row in enumerate(rows) if row.truth}
    print(summary, f"members {len(members)}, generated campaign letters {len(truth)}")
    assert len(truth) == 60
    # The generated campaign's letters are found (at most a heavily edited few missed).
    assert len(members & truth) >= 55 and members <= truth
    assert "1 campaign(s)" in summary
    again = await load_demo_campaigns(session, demo)
    assert "already detected" in again
    suggestions = await session.scalar(text("SELECT count(*) FROM theme_suggestions"))
    assert suggestions and suggestions > 0


async def test_dedupe_runs_on_a_worker(engine: Any, database_url: str) -> None:
    """The real path: committed data, the run's one job done by a procrastinate worker."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from app.consultations import service as consultations_service
    from app.consultations.models import Consultation
    from app.consultations.schemas import ConsultationCreate
    from app.jobs.worker import make_app, run_worker
    from tests.factories import consultation_body

    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    slug = f"dedupe-{uuid.uuid4().hex[:12]}"
    async with sessionmaker() as session:
        detail = await consultations_service.create_consultation(
            session, data=ConsultationCreate.model_validate(consultation_body(slug))
        )
        question = str(detail.proposals[0].questions[0].id)
        for body in [*letters(8), *DISTINCT]:
            await add_response(session, str(detail.id), {question: body})
        await session.commit()
    try:
        async with sessionmaker() as session:
            consultation = await session.get(Consultation, detail.id)
            assert consultation is not None
            run = await jobs.create_run(
                session,
                queue=make_app(database_url),
                consultation=consultation,
                kind="dedupe",
                user=None,
            )
            await session.commit()
        await run_worker(
            database_url, wait=False, install_signal_handlers=False, listen_notify=False
        )
        async with sessionmaker() as session:
            done = await session.get(AnalysisRun, run.id)
            assert done is not None and done.status.value == "succeeded", done and done.error
            assert done.progress_done == done.progress_total == 8 + len(DISTINCT)
            count = await session.scalar(
                text("SELECT member_count FROM campaigns WHERE consultation_id = :c"),
                {"c": detail.id},
            )
            assert count == 8
    finally:
        async with sessionmaker() as session:
            await session.execute(
                text(
                    "DELETE FROM procrastinate_jobs WHERE args->>'run_id' IN "
                    "(SELECT id::text FROM analysis_runs WHERE consultation_id = :c)"
                ),
                {"c": detail.id},
            )
            await session.execute(text("DELETE FROM consultations WHERE id = :c"), {"c": detail.id})
            await session.commit()

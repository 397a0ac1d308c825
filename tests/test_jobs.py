"""Analysis runs on procrastinate: chunks, progress, failure and retry, idempotence, access.

Workers only see committed rows, so the worker tests COMMIT a small consultation (unique slug)
and delete it afterwards (runs and chunks go with it by ON DELETE CASCADE, failed jobs are
deleted by run id). The worker runs in the test's event loop with `wait=False`: it stops once
the queue is empty.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.consultations import service as consultations_service
from app.consultations.schemas import ConsultationCreate
from app.enums import Role
from app.jobs import service
from app.jobs.models import AnalysisRun, AnalysisRunChunk, RunStatus
from app.jobs.worker import make_app, run_worker
from tests.conftest import Users, bearer
from tests.factories import consultation_body, create_consultation, submission

ANSWERS = 25


def answer_text(i: int) -> str:
    if i % 2:
        return f"Please write to jane.doe{i}@example.org or call 07700 900{i:03d}."
    return f"I support this proposal, reason {i}."


@dataclass
class Committed:
    sessionmaker: async_sessionmaker[AsyncSession]
    consultation_id: uuid.UUID
    database_url: str

    async def create_run(self, chunk_size: int = 10) -> AnalysisRun:
        async with self.sessionmaker() as session:
            consultation = await session.get(
                consultations_service.Consultation, self.consultation_id
            )
            assert consultation is not None
            run = await service.create_run(
                session,
                queue=make_app(self.database_url),
                consultation=consultation,
                kind="redact",
                user=None,
                chunk_size=chunk_size,
            )
            await session.commit()
            return run

    async def run(self, run_id: uuid.UUID) -> AnalysisRun:
        async with self.sessionmaker() as session:
            found = await session.get(AnalysisRun, run_id)
            assert found is not None
            return found

    async def chunks(self, run_id: uuid.UUID) -> list[AnalysisRunChunk]:
        async with self.sessionmaker() as session:
            query = (
                select(AnalysisRunChunk)
                .where(AnalysisRunChunk.run_id == run_id)
                .order_by(AnalysisRunChunk.index)
            )
            return list(await session.scalars(query))

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.sessionmaker() as session:
            return await session.scalar(text(sql), params)

    async def execute(self, sql: str, **params: Any) -> None:
        async with self.sessionmaker() as session:
            await session.execute(text(sql), params)
            await session.commit()

    async def work(self) -> None:
        await run_worker(
            self.database_url, wait=False, install_signal_handlers=False, listen_notify=False
        )


@pytest.fixture
async def committed(engine: AsyncEngine, database_url: str) -> AsyncIterator[Committed]:
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    slug = f"jobs-{uuid.uuid4().hex[:12]}"
    async with sessionmaker() as session:
        detail = await consultations_service.create_consultation(
            session, data=ConsultationCreate.model_validate(consultation_body(slug))
        )
        question_id = detail.proposals[0].questions[0].id
        for i in range(ANSWERS):
            respondent_id, response_id = uuid.uuid4(), uuid.uuid4()
            await session.execute(
                text(
                    "INSERT INTO respondents (id, consultation_id, kind, name, "
                    "publication_consent, channel) VALUES (:id, :c, 'individual', :name, "
                    "'publish', 'web')"
                ),
                {"id": respondent_id, "c": detail.id, "name": "Jane Doe"},
            )
            await session.execute(
                text(
                    "INSERT INTO responses (id, consultation_id, respondent_id, receipt_code, "
                    "status, channel) VALUES (:id, :c, :r, :code, 'received', 'web')"
                ),
                {
                    "id": response_id,
                    "c": detail.id,
                    "r": respondent_id,
                    "code": uuid.uuid4().hex[:14],
                },
            )
            # A stale redaction: the raw text, as if an older redactor had missed everything.
            await session.execute(
                text(
                    "INSERT INTO answers (response_id, question_id, text, redacted_text) "
                    "VALUES (:r, :q, :t, :t)"
                ),
                {"r": response_id, "q": question_id, "t": answer_text(i)},
            )
        await session.commit()
    data = Committed(sessionmaker, detail.id, database_url)
    try:
        yield data
    finally:
        await data.execute(
            "DELETE FROM procrastinate_jobs WHERE args->>'run_id' IN "
            "(SELECT id::text FROM analysis_runs WHERE consultation_id = :c)",
            c=detail.id,
        )
        await data.execute("DELETE FROM consultations WHERE id = :c", c=detail.id)


async def stale_answers(committed: Committed) -> int:
    return int(
        await committed.scalar(
            "SELECT count(*) FROM answers a JOIN responses r ON r.id = a.response_id "
            "WHERE r.consultation_id = :c AND a.redacted_text LIKE '%@example.org%'",
            c=committed.consultation_id,
        )
    )


async def test_redact_run_is_split_into_chunks_and_completes(committed: Committed) -> None:
    assert await stale_answers(committed) == ANSWERS // 2
    run = await committed.create_run(chunk_size=10)
    assert run.status == RunStatus.queued
    assert (run.progress_done, run.progress_total, run.chunk_count) == (0, ANSWERS, 3)

    await committed.work()

    run = await committed.run(run.id)
    assert run.status == RunStatus.succeeded, run.error
    assert run.progress_done == run.progress_total == run.data_count == ANSWERS
    assert run.metrics["answers"] == ANSWERS and run.metrics["changed"] == ANSWERS // 2
    assert run.data_hash and run.metrics["output_hash"] and run.code_version
    assert run.started_at and run.finished_at and "wall_seconds" in run.timings
    assert await stale_answers(committed) == 0
    assert "[EMAIL]" in await committed.scalar(
        "SELECT a.redacted_text FROM answers a JOIN responses r ON r.id = a.response_id "
        "WHERE r.consultation_id = :c AND a.text LIKE '%@%' LIMIT 1",
        c=committed.consultation_id,
    )

    # The same inputs give the same hashes; nothing changes the second time.
    again = await committed.create_run(chunk_size=7)
    await committed.work()
    again = await committed.run(again.id)
    assert again.status == RunStatus.succeeded and again.chunk_count == 4
    # Same inputs and outputs, chunked differently: the same hashes.
    assert again.data_hash == run.data_hash
    assert again.metrics["output_hash"] == run.metrics["output_hash"]
    assert again.metrics["changed"] == 0 and again.progress_done == ANSWERS


async def test_failing_chunk_fails_the_run_and_retry_reruns_only_unfinished_chunks(
    committed: Committed, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = service.HANDLERS["redact"]
    calls: list[int] = []

    async def flaky(session: AsyncSession, run: AnalysisRun, chunk: AnalysisRunChunk) -> Any:
        calls.append(chunk.index)
        if chunk.index == 1 and calls.count(1) == 1:
            raise RuntimeError("the redactor broke")
        return await real(session, run, chunk)

    monkeypatch.setitem(service.HANDLERS, "redact", flaky)
    run = await committed.create_run(chunk_size=10)
    await committed.work()

    run = await committed.run(run.id)
    assert run.status == RunStatus.failed
    assert run.error == "chunk 1: RuntimeError: the redactor broke"
    assert run.progress_done == 15 and run.progress_total == ANSWERS
    chunks = await committed.chunks(run.id)
    assert [c.status for c in chunks] == [
        RunStatus.succeeded,
        RunStatus.failed,
        RunStatus.succeeded,
    ]
    # Nothing of the failed chunk was written (its transaction rolled back).
    in_chunk_1 = await committed.scalar(
        "SELECT count(*) FROM answers WHERE text LIKE '%@%' AND id >= :lo AND id < :hi "
        "AND question_id IN (SELECT q.id FROM questions q JOIN proposals p "
        "ON p.id = q.proposal_id WHERE p.consultation_id = :c)",
        lo=chunks[1].lower_id,
        hi=chunks[1].upper_id,
        c=committed.consultation_id,
    )
    assert await stale_answers(committed) == in_chunk_1 > 0

    async with committed.sessionmaker() as session:
        found = await session.get(AnalysisRun, run.id)
        assert found is not None
        retried = await service.retry_run(
            session, queue=make_app(committed.database_url), run=found
        )
        await session.commit()
    assert retried.status == RunStatus.running and retried.attempts == 2 and retried.error is None
    await committed.work()

    run = await committed.run(run.id)
    assert run.status == RunStatus.succeeded, run.error
    assert run.progress_done == run.progress_total == ANSWERS
    assert sorted(calls) == [0, 1, 1, 2]  # chunks 0 and 2 ran once
    assert [c.attempts for c in await committed.chunks(run.id)] == [1, 2, 1]
    assert await stale_answers(committed) == 0


async def test_rerunning_or_interrupting_a_chunk_does_not_duplicate_work(
    committed: Committed,
) -> None:
    run = await committed.create_run(chunk_size=10)
    # A worker took chunk 0 and died before committing its work; its job is gone.
    async with committed.sessionmaker() as session:
        assert await service.start_chunk(session, run_id=run.id, index=0)
        await session.commit()
    await committed.execute(
        "UPDATE procrastinate_jobs SET status = 'aborted' WHERE args->>'run_id' = :r "
        "AND (args->>'chunk')::int = 0",
        r=str(run.id),
    )
    await committed.work()  # recovers the orphaned chunk first
    run = await committed.run(run.id)
    assert run.status == RunStatus.succeeded, run.error
    assert run.progress_done == run.progress_total == ANSWERS
    assert [c.attempts for c in await committed.chunks(run.id)] == [2, 1, 1]

    # The same job delivered again: skipped, nothing counted twice.
    await service.run_chunk(committed.sessionmaker, run_id=run.id, index=0)
    async with committed.sessionmaker() as session:
        assert not await service.complete_chunk(session, run_id=run.id, index=1)
    again = await committed.run(run.id)
    assert again.progress_done == ANSWERS and again.finished_at == run.finished_at


async def test_a_consultation_without_answers_succeeds_at_once(
    client: httpx.AsyncClient, users: Users
) -> None:
    admin = await users.token(Role.admin)
    await create_consultation(client, admin, "empty")
    started = await client.post(
        "/api/v1/consultations/empty/runs", json={"kind": "redact"}, headers=bearer(admin)
    )
    assert started.status_code == 202, started.text
    body = started.json()
    assert body["status"] == "succeeded" and body["progress"] == {"done": 0, "total": 0}


async def test_run_api_and_access_rules(
    client: httpx.AsyncClient, users: Users, session: AsyncSession
) -> None:
    admin = await users.token(Role.admin)
    mine = await create_consultation(client, admin, "mine")
    await create_consultation(client, admin, "theirs")
    for i in range(3):
        body = submission(mine)
        body["answers"][0]["text"] = f"Email me at a{i}@example.org"
        submitted = await client.post("/api/v1/consultations/mine/responses", json=body)
        assert submitted.status_code == 201, submitted.text
    analyst = await users.token(Role.analyst, member_of=["mine"])
    reviewer = await users.token(Role.reviewer, member_of=["mine"])
    outsider = await users.token(Role.analyst, member_of=["theirs"])
    outside_reviewer = await users.token(Role.reviewer, member_of=["theirs"])

    url = "/api/v1/consultations/mine/runs"
    assert (await client.post(url, json={"kind": "redact"})).status_code == 401
    for token in (reviewer, outsider):
        refused = await client.post(url, json={"kind": "redact"}, headers=bearer(token))
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    bad = await client.post(url, json={"kind": "nonsense"}, headers=bearer(analyst))
    assert bad.status_code == 422

    started = await client.post(url, json={"kind": "redact"}, headers=bearer(analyst))
    assert started.status_code == 202, started.text
    run = started.json()
    assert run["status"] == "queued" and run["kind"] == "redact"
    assert run["progress"] == {"done": 0, "total": 3} and run["chunks"] == 1
    assert run["parameters"]["chunk_size"] == service.DEFAULT_CHUNK_SIZE
    jobs = await session.scalar(
        text("SELECT count(*) FROM procrastinate_jobs WHERE args->>'run_id' = :r"),
        {"r": run["id"]},
    )
    assert jobs == 1  # deferred in the request's own transaction

    job_url = f"/api/v1/jobs/{run['id']}"
    assert (await client.get(job_url)).status_code == 401
    for token in (admin, analyst, reviewer):
        seen = await client.get(job_url, headers=bearer(token))
        assert seen.status_code == 200 and seen.json()["id"] == run["id"]
    for token in (outsider, outside_reviewer):
        assert (await client.get(job_url, headers=bearer(token))).status_code == 403
    missing = await client.get(f"/api/v1/jobs/{uuid.uuid4()}", headers=bearer(admin))
    assert missing.status_code == 404

    retry_url = f"{job_url}/retry"
    assert (await client.post(retry_url)).status_code == 401
    for token in (reviewer, outsider, outside_reviewer):
        assert (await client.post(retry_url, headers=bearer(token))).status_code == 403
    not_failed = await client.post(retry_url, headers=bearer(analyst))
    assert not_failed.status_code == 409 and not_failed.json()["code"] == "conflict"


async def test_cli_runs_the_jobs_itself_when_no_worker_is_live(committed: Committed) -> None:
    """`consult analyse redact` on DATABASE_URL (a server, not the embedded database) with no
    worker running: the command runs the jobs in-process and finishes instead of waiting."""
    from tests.test_cli import consult

    slug = await committed.scalar(
        "SELECT slug FROM consultations WHERE id = :c", c=committed.consultation_id
    )
    assert (
        await committed.scalar(
            "SELECT count(*) FROM procrastinate_workers "
            "WHERE last_heartbeat > now() - interval '30 seconds'"
        )
        == 0
    )
    result = consult(
        "analyse",
        "redact",
        "--consultation",
        slug,
        "--chunk-size",
        "100",
        database_url=committed.database_url,
    )
    assert result.returncode == 0, result.stderr
    assert "succeeded" in result.stdout
    assert await stale_answers(committed) == 0
    run = await committed.scalar(
        "SELECT status FROM analysis_runs WHERE consultation_id = :c", c=committed.consultation_id
    )
    assert run == "succeeded"

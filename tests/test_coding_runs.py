"""Code and stance runs for a proposal: provenance, evidence, determinism, re-runs without
duplicates, human codings kept, review queue, suggestions, stance, bad input.

Runs are started through the API (which queues their jobs) and their chunks are then done
in the test's transaction by `run_in_process`, exactly as a worker would do each chunk.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.coding import runs
from app.coding.models import Coding, RunArtefact, Stance
from app.coding.review import run_in_process
from app.enums import Role
from app.jobs.models import AnalysisRun, AnalysisRunChunk
from app.jobs.service import complete_chunk, start_chunk
from tests.conftest import Users, bearer
from tests.factories import question_ids
from tests.test_codeframes import THEMES, World, make_world

PRIVACY = [
    "I worry about my privacy and who can read my personal records",
    "My private information should stay private, this invades privacy",
    "Privacy matters: strangers should not see my personal details",
    "This is an invasion of privacy and of my personal life",
]
SECURITY = [
    "Hackers will steal the data in a breach of the system",
    "A data breach could leak everything, the systems get hacked",
    "Cyber attacks and hacking put the database at risk of a breach",
    "Security is weak and the data will be hacked and stolen",
]
SERVICES = [
    "People would get faster and better services from the council",
    "Better services for families who need help, delivered quicker",
    "It would improve services and help people get support sooner",
    "Services would be more joined up and better for everyone",
]
NONE = ["No comment", "I have nothing to add", "Not sure what to say", "No view"]
AMBIGUOUS = [
    "Better services are fine but privacy and breaches worry me a little",
    "Services could improve, though hacking is possible",
]


@dataclass
class Sample:
    answer_id: uuid.UUID
    response_id: uuid.UUID
    gold: list[str]
    option: str | None


async def add_answers(session: AsyncSession, world: World, n: int = 60) -> list[Sample]:
    """n responses to proposal 1: a free-text answer with known themes, and (for most) the
    stance question."""
    ids = question_ids(world.detail)
    consultation_id = world.detail["id"]
    groups = [
        (PRIVACY, ["P1-01"], "Disagree"),
        (SECURITY, ["P1-02"], "Disagree"),
        (SERVICES, ["P1-03"], "Agree"),
        (NONE, [], "Neither agree nor disagree"),
    ]
    samples: list[Sample] = []
    for i in range(n):
        if i % 15 == 14:
            body, gold, option = AMBIGUOUS[i % 2], ["P1-01", "P1-03"], "Agree"
        else:
            texts, gold, option = groups[i % 4]
            body = f"{texts[(i // 4) % 4]} ({i})"
        if i % 5 == 4:
            option = None  # no stance answer: stance predicted from the text
        respondent, response, answer = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        await session.execute(
            text(
                "INSERT INTO respondents (id, consultation_id, kind, publication_consent, "
                "channel) VALUES (:id, :c, 'individual', 'publish', 'web')"
            ),
            {"id": respondent, "c": consultation_id},
        )
        await session.execute(
            text(
                "INSERT INTO responses (id, consultation_id, respondent_id, receipt_code, "
                "status, channel) VALUES (:id, :c, :r, :code, 'received', 'web')"
            ),
            {"id": response, "c": consultation_id, "r": respondent, "code": uuid.uuid4().hex[:14]},
        )
        await session.execute(
            text(
                "INSERT INTO answers (id, response_id, question_id, text, redacted_text) "
                "VALUES (:id, :r, :q, :t, :t)"
            ),
            {"id": answer, "r": response, "q": ids["1"], "t": body},
        )
        if option is not None:
            await session.execute(
                text(
                    "INSERT INTO answers (response_id, question_id, options) "
                    "VALUES (:r, :q, ARRAY[:o])"
                ),
                {"r": response, "q": ids["2"], "o": option},
            )
        samples.append(Sample(answer, response, gold, option))
    await session.flush()
    return samples


@dataclass
class Coded:
    world: World
    codeframe: dict[str, Any]
    samples: list[Sample]
    seed_ids: set[uuid.UUID]

    @property
    def uncoded(self) -> list[Sample]:
        return [s for s in self.samples if s.answer_id not in self.seed_ids]

    async def start(self, kind: str = "code", **body: Any) -> httpx.Response:
        return await self.world.client.post(
            f"/api/v1/proposals/{self.world.proposal_id}/runs",
            json={"kind": kind, **body},
            headers=self.world.headers,
        )

    async def run(self, session: AsyncSession, kind: str = "code", **body: Any) -> AnalysisRun:
        started = await self.start(kind, **body)
        assert started.status_code == 202, started.text
        return await run_in_process(session, run_id=uuid.UUID(started.json()["id"]))


@pytest.fixture
async def coded(client: httpx.AsyncClient, users: Users, session: AsyncSession) -> Coded:
    world = await make_world(client, users)
    codeframe = await world.published(THEMES)
    samples = await add_answers(session, world)
    seed = [s for i, s in enumerate(samples) if i % 3 == 0]  # 20 of 60 coded by hand
    for s in seed:
        response = await world.code(str(s.answer_id), codeframe["id"], s.gold)
        assert response.status_code == 200, response.text
    return Coded(world, codeframe, samples, {s.answer_id for s in seed})


async def current(session: AsyncSession, answer_id: uuid.UUID) -> list[Coding]:
    return list(
        await session.scalars(
            select(Coding)
            .where(Coding.answer_id == answer_id, Coding.is_current)
            .execution_options(populate_existing=True)
        )
    )


async def run_codings(session: AsyncSession, run_id: uuid.UUID) -> dict[tuple[Any, Any], Any]:
    rows = await session.scalars(select(Coding).where(Coding.run_id == run_id))
    return {(c.answer_id, c.theme_id): (c.present, c.confidence, c.evidence) for c in rows}


async def test_code_run_codes_every_uncoded_answer_with_evidence_and_provenance(
    coded: Coded, session: AsyncSession
) -> None:
    run = await coded.run(session, seed=7)
    assert run.status.value == "succeeded", run.error
    job = await coded.world.client.get(f"/api/v1/jobs/{run.id}", headers=coded.world.headers)
    assert job.status_code == 200
    body = job.json()
    assert body["kind"] == "code" and body["proposal_id"] == coded.world.proposal_id
    assert body["progress"]["done"] == body["progress"]["total"] == len(coded.samples)

    # Provenance: data, codeframe version, parameters, seed, packages, artefact, CV metrics.
    assert body["seed"] == 7 and body["data_count"] == len(coded.samples)
    assert body["data_hash"] and body["parameters"]["codeframe_version"] == 1
    assert "scikit-learn" in body["package_versions"] and body["code_version"]
    artefact = await session.get(RunArtefact, run.id)
    assert artefact is not None
    assert body["artefact_hash"] == hashlib.sha256(artefact.data).hexdigest() == artefact.sha256
    cv = body["metrics"]["cv"]
    assert set(cv["themes"]) == {"P1-01", "P1-02", "P1-03"}
    for theme in cv["themes"].values():
        assert {"precision", "recall", "f1", "support"} <= set(theme)
        assert 0 <= theme["f1"] <= 1
    assert body["metrics"]["training_count"] == len(coded.seed_ids)
    assert "fit_seconds" in body["timings"] and "wall_seconds" in body["timings"]

    themes = {t["code"]: uuid.UUID(t["id"]) for t in coded.codeframe["themes"]}
    code_of = {v: k for k, v in themes.items()}
    right = 0
    for sample in coded.uncoded:
        decisions = await current(session, sample.answer_id)
        # Sparse: present themes, borderline absent ones, and at most one other absent one
        # (the least certain), so every coded answer has a decision.
        assert decisions
        assert len({d.theme_id for d in decisions}) == len(decisions)
        assert sum(1 for d in decisions if not d.present and not d.evidence["borderline"]) <= 1
        assert all(d.source.value == "model" and d.run_id == run.id for d in decisions)
        assert all(0.0 <= (d.confidence or 0) <= 1.0 for d in decisions)
        for d in decisions:
            if d.present:
                assert d.evidence["terms"], d.evidence
                examples = [uuid.UUID(e["answer_id"]) for e in d.evidence["examples"]]
                assert examples and set(examples) <= coded.seed_ids
        right += sorted(code_of[d.theme_id] for d in decisions if d.present) == sorted(sample.gold)
    # The synthetic answers are easy: the model should get nearly all of them right.
    assert right >= 0.8 * len(coded.uncoded)

    # The analysts' codings are untouched.
    for answer_id in coded.seed_ids:
        assert all(d.source.value == "human" for d in await current(session, answer_id))

    # The answer API shows the model's codes with their confidence and evidence.
    sample = next(s for s in coded.uncoded if s.gold)
    codes = await coded.world.client.get(
        f"/api/v1/answers/{sample.answer_id}/codes", headers=coded.world.headers
    )
    assert codes.status_code == 200
    shown = codes.json()["codes"]
    assert all(c["source"] == "model" and c["confidence"] is not None for c in shown)


async def test_same_inputs_and_seed_give_identical_codings(
    coded: Coded, session: AsyncSession
) -> None:
    first = await coded.run(session, seed=3)
    second = await coded.run(session, seed=3)
    assert first.status.value == second.status.value == "succeeded"
    one, two = await run_codings(session, first.id), await run_codings(session, second.id)
    assert one and one == two
    assert first.metrics["output_hash"] == second.metrics["output_hash"]
    assert first.artefact_hash == second.artefact_hash
    # The second run superseded the first run's decisions, one current decision each.
    rows = list(await session.scalars(select(Coding).where(Coding.run_id == second.id)))
    assert all(r.is_current and r.supersedes_id is not None for r in rows)
    assert not any(
        c.is_current for c in await session.scalars(select(Coding).where(Coding.run_id == first.id))
    )


async def test_model_decisions_are_sparse_and_a_rerun_supersedes_a_changed_mind(
    coded: Coded, session: AsyncSession
) -> None:
    themes = {t["code"]: uuid.UUID(t["id"]) for t in coded.codeframe["themes"]}
    first = await coded.run(session, seed=3)
    assert first.status.value == "succeeded", first.error
    stored = list(await session.scalars(select(Coding).where(Coding.run_id == first.id)))
    # Far fewer rows than answers x themes: absent decisions are stored only when borderline
    # or the answer's least certain one.
    assert len(stored) < len(coded.uncoded) * len(THEMES)
    assert any(not c.present for c in stored) and any(c.present for c in stored)
    # Every model-coded answer still reads as coded.
    for sample in coded.uncoded:
        body = (
            await coded.world.client.get(
                f"/api/v1/answers/{sample.answer_id}/codes", headers=coded.world.headers
            )
        ).json()
        assert body["coded"] is True
    privacy = [s for s in coded.uncoded if s.gold == ["P1-01"]]
    said_privacy = {
        c.answer_id
        for c in stored
        if c.present
        and c.theme_id == themes["P1-01"]
        and c.answer_id in {s.answer_id for s in privacy}
    }
    assert said_privacy

    # The analysts swap the privacy and security codes of their examples: the model now
    # calls the privacy answers "security" and no longer "privacy".
    swap = {"P1-01": "P1-02", "P1-02": "P1-01"}
    for s in coded.samples:
        if s.answer_id in coded.seed_ids and s.gold in (["P1-01"], ["P1-02"]):
            response = await coded.world.code(
                str(s.answer_id), coded.codeframe["id"], [swap[s.gold[0]]]
            )
            assert response.status_code == 200, response.text
    second = await coded.run(session, seed=3)
    assert second.status.value == "succeeded", second.error
    changed = 0
    for answer_id in said_privacy:
        now = {d.theme_id: d for d in await current(session, answer_id)}
        # No decision of the first run is current any more.
        assert all(d.run_id == second.id for d in now.values())
        decision = now[themes["P1-01"]]
        if not decision.present:
            changed += 1
            # The absent decision replaced the first run's present one.
            old = await session.get(Coding, decision.supersedes_id, populate_existing=True)
            assert old is not None and old.run_id == first.id and old.present
            assert not old.is_current
            codes = (
                await coded.world.client.get(
                    f"/api/v1/answers/{answer_id}/codes", headers=coded.world.headers
                )
            ).json()
            assert "P1-01" not in [c["code"] for c in codes["codes"]]
    assert changed and changed >= len(said_privacy) // 2


async def test_an_interrupted_run_reruns_without_duplicating_codings(
    coded: Coded, session: AsyncSession
) -> None:
    run = await runs.start_run(
        session,
        queue=_queue(),
        proposal_id=uuid.UUID(coded.world.proposal_id),
        kind="code",
        user=None,
        chunk_size=25,
    )
    assert run.chunk_count == 3
    # The worker did chunk 0, then died.
    assert await start_chunk(session, run_id=run.id, index=0)
    assert await complete_chunk(session, run_id=run.id, index=0)
    after_first = len(await run_codings(session, run.id))
    assert after_first > 0
    # Chunk 0's job is delivered again: nothing is done twice.
    assert not await start_chunk(session, run_id=run.id, index=0)
    assert not await complete_chunk(session, run_id=run.id, index=0)
    # Even the handler itself, run again on the same chunk, writes nothing new.
    chunk = await session.get(AnalysisRunChunk, (run.id, 0))
    assert chunk is not None
    again = await runs.code_chunk(session, run, chunk)
    assert again.metrics["codings_written"] == 0
    assert len(await run_codings(session, run.id)) == after_first
    # The re-run finishes the other chunks.
    finished = await run_in_process(session, run_id=run.id)
    assert finished.status.value == "succeeded"
    assert finished.progress_done == len(coded.samples)
    count = await session.scalar(
        text("SELECT count(*) FROM codings WHERE run_id = :r"), {"r": run.id}
    )
    # One decision per (answer, theme) at most, and every uncoded answer coded.
    decisions = await run_codings(session, run.id)
    assert count == len(decisions)
    assert {a for a, _ in decisions} == {s.answer_id for s in coded.uncoded}


def _queue() -> Any:
    from app.jobs.worker import queue_app

    return queue_app()


async def test_review_queue_confirming_an_item_writes_human_codings_that_later_runs_keep(
    coded: Coded, session: AsyncSession
) -> None:
    run = await coded.run(session)
    url = f"/api/v1/proposals/{coded.world.proposal_id}/review-queue"
    queue = await coded.world.client.get(url, params={"per_page": 5}, headers=coded.world.headers)
    assert queue.status_code == 200, queue.text
    body = queue.json()
    borderline = await session.scalar(
        text(
            "SELECT count(DISTINCT answer_id) FROM codings WHERE run_id = :r AND is_current "
            "AND (evidence->>'borderline')::boolean"
        ),
        {"r": run.id},
    )
    assert body["total"] == borderline
    assert body["total"] >= 1, "the ambiguous answers should be borderline"
    assert len(body["items"]) == min(5, body["total"])
    item = body["items"][0]
    assert item["codes"] and any(c["borderline"] for c in item["codes"])
    assert uuid.UUID(item["answer_id"]) not in coded.seed_ids

    # The analyst corrects it: human decisions supersede the model's.
    answer_id = item["answer_id"]
    fixed = await coded.world.code(answer_id, coded.codeframe["id"], ["P1-02"])
    assert fixed.status_code == 200
    again = (
        await coded.world.client.get(url, params={"per_page": 200}, headers=coded.world.headers)
    ).json()
    assert answer_id not in [i["answer_id"] for i in again["items"]]
    assert again["total"] == body["total"] - 1
    history = (
        await coded.world.client.get(
            f"/api/v1/answers/{answer_id}/history", headers=coded.world.headers
        )
    ).json()["decisions"]
    model = [d for d in history if d["source"] == "model"]
    assert model and all(not d["is_current"] and d["superseded_by_id"] for d in model)

    # A later run never overrides the person.
    later = await coded.run(session, seed=1)
    assert later.status.value == "succeeded"
    decisions = await current(session, uuid.UUID(answer_id))
    assert all(d.source.value == "human" for d in decisions)
    assert [d.present for d in decisions].count(True) == 1


async def test_suggested_answers_are_uncoded_and_distinct(
    coded: Coded, session: AsyncSession
) -> None:
    url = f"/api/v1/proposals/{coded.world.proposal_id}/suggested-answers"
    before = await coded.world.client.get(url, headers=coded.world.headers)
    assert before.status_code == 409 and before.json()["code"] == "no_model"
    await coded.run(session)
    response = await coded.world.client.get(url, params={"k": 5}, headers=coded.world.headers)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert 1 <= len(items) <= 5
    ids = [uuid.UUID(i["answer_id"]) for i in items]
    assert len(set(ids)) == len(ids) and not set(ids) & coded.seed_ids
    assert response.json()["candidates"] == len(coded.uncoded)
    assert all(0 <= i["uncertainty"] <= 1 for i in items)
    uncertainties = [i["uncertainty"] for i in items]
    assert uncertainties[0] == max(uncertainties)


async def test_stance_run_reads_the_stance_question_and_predicts_the_rest(
    coded: Coded, session: AsyncSession
) -> None:
    # An analyst's stance decision is never overridden.
    human = next(s for s in coded.samples if s.option == "Agree")
    set_by_hand = await coded.world.code(
        str(human.answer_id), coded.codeframe["id"], human.gold, stance="mixed"
    )
    assert set_by_hand.status_code == 200
    run = await coded.run(session, "stance")
    assert run.status.value == "succeeded", run.error
    assert run.artefact_hash and run.metrics["training_count"] > 0
    assert 0 <= run.metrics["cv"]["accuracy"] <= 1, run.metrics
    expected = {"Agree": "support", "Disagree": "oppose", "Neither agree nor disagree": "neutral"}
    proposal_id = uuid.UUID(coded.world.proposal_id)
    predicted_ok = predicted = 0
    for sample in coded.samples:
        stance = await session.scalar(
            select(Stance).where(
                Stance.response_id == sample.response_id,
                Stance.proposal_id == proposal_id,
                Stance.is_current,
            )
        )
        assert stance is not None
        if sample is human:
            assert stance.value.value == "mixed" and stance.source.value == "human"
        elif sample.option is not None:
            assert stance.value.value == expected[sample.option]
            assert stance.evidence["source"] == "stance_question" and stance.confidence == 1.0
        else:
            assert stance.source.value == "model" and stance.evidence["source"] == "text"
            assert 0 < (stance.confidence or 0) <= 1
            predicted += 1
            gold = {"P1-03": "support", "P1-01": "oppose", "P1-02": "oppose"}
            want = gold.get(sample.gold[0], "neutral") if len(sample.gold) == 1 else "support"
            predicted_ok += stance.value.value == (want if sample.gold else "neutral")
    assert predicted == sum(1 for s in coded.samples if s.option is None)
    assert predicted_ok >= predicted / 2


async def test_bad_run_requests_are_refused_and_store_nothing(
    client: httpx.AsyncClient, users: Users, session: AsyncSession
) -> None:
    world = await make_world(client, users)
    url = f"/api/v1/proposals/{world.proposal_id}/runs"

    async def runs_stored() -> int:
        return int(await session.scalar(text("SELECT count(*) FROM analysis_runs")) or 0)

    stored = await runs_stored()
    no_codeframe = await client.post(url, json={"kind": "code"}, headers=world.headers)
    assert no_codeframe.status_code == 409
    assert no_codeframe.json()["code"] == "codeframe_not_published"
    codeframe = await world.published(THEMES)
    no_codings = await client.post(url, json={"kind": "code"}, headers=world.headers)
    assert no_codings.status_code == 409 and no_codings.json()["code"] == "no_coded_answers"
    answer = await world.answer(session)
    await world.code(answer, codeframe["id"], ["P1-01"])
    unknown = await client.post(
        url, json={"kind": "code", "parameters": {"rm_rf": 1}}, headers=world.headers
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "validation_failed"
    bad_kind = await client.post(url, json={"kind": "redact"}, headers=world.headers)
    assert bad_kind.status_code == 422
    reviewer = await users.token(Role.reviewer, member_of=["coding"])
    refused = await client.post(url, json={"kind": "code"}, headers=bearer(reviewer))
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    missing = await client.post(
        f"/api/v1/proposals/{uuid.uuid4()}/runs", json={"kind": "code"}, headers=world.headers
    )
    assert missing.status_code == 404
    assert await runs_stored() == stored
    ok = await client.post(url, json={"kind": "code"}, headers=world.headers)
    assert ok.status_code == 202 and ok.json()["status"] == "queued"
    assert await runs_stored() == stored + 1


async def test_the_demo_shows_human_and_model_codings_and_stances(session: AsyncSession) -> None:
    from app.demo.loader import load_demo

    await load_demo(session)
    rows = (
        await session.execute(
            text(
                """
                SELECT p.id,
                       (SELECT count(*) FROM answers a JOIN questions q ON q.id = a.question_id
                        WHERE q.proposal_id = p.id AND q.kind = 'open_text'
                          AND btrim(coalesce(a.text, '')) <> '') AS open_answers,
                       (SELECT count(DISTINCT c.answer_id) FROM codings c
                        JOIN codeframes f ON f.id = c.codeframe_id
                        WHERE f.proposal_id = p.id AND c.is_current AND c.source = 'human')
                        AS human,
                       (SELECT count(DISTINCT c.answer_id) FROM codings c
                        JOIN codeframes f ON f.id = c.codeframe_id
                        WHERE f.proposal_id = p.id AND c.is_current AND c.source = 'model')
                        AS model,
                       (SELECT count(*) FROM stances s WHERE s.proposal_id = p.id
                        AND s.is_current AND s.evidence->>'source' = 'stance_question') AS read,
                       (SELECT count(*) FROM stances s WHERE s.proposal_id = p.id
                        AND s.is_current AND s.evidence->>'source' = 'text') AS predicted,
                       (SELECT count(*) FROM analysis_runs r WHERE r.proposal_id = p.id
                        AND r.status = 'succeeded' AND r.artefact_hash IS NOT NULL) AS runs
                FROM proposals p JOIN consultations c ON c.id = p.consultation_id
                WHERE c.slug = 'better-use-of-data'
                """
            )
        )
    ).all()
    assert len(rows) == 5
    for row in rows:
        assert row.human >= 0.15 * row.open_answers and row.human <= 0.25 * row.open_answers
        assert row.human + row.model == row.open_answers
        assert row.read > 0 and row.predicted > 0
        assert row.runs == 2  # a code run and a stance run
